use crate::cli::KillArgs;
use crate::{CmdResult, Ctx};
use rune_core::sys::signal::parse as parse_signal;
use rune_core::Container;

pub fn run(ctx: &Ctx, a: KillArgs) -> CmdResult {
    let sig = parse_signal(&a.signal)?;
    Container::load(&ctx.store, &a.id)?.kill(sig, a.all)?;
    Ok(0)
}
