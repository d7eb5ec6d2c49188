use crate::{CmdResult, Ctx};
use rune_core::Container;

pub fn run(ctx: &Ctx, id: &str) -> CmdResult {
    for w in Container::load(&ctx.store, id)?.start()? {
        ctx.log.log("warning", w.message());
    }
    Ok(0)
}
