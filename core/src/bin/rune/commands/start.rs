use crate::{CmdResult, Ctx};
use rune_core::Container;

pub fn run(ctx: &Ctx, id: &str) -> CmdResult {
    Container::load(&ctx.store, id)?.start()?;
    Ok(0)
}
