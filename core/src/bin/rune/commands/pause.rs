use crate::{CmdResult, Ctx};
use rune_core::Container;

pub fn pause(ctx: &Ctx, id: &str) -> CmdResult {
    Container::load(&ctx.store, id)?.pause()?;
    Ok(0)
}

pub fn resume(ctx: &Ctx, id: &str) -> CmdResult {
    Container::load(&ctx.store, id)?.resume()?;
    Ok(0)
}
