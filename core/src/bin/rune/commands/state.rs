use crate::{CmdResult, Ctx};
use rune_core::Container;

pub fn run(ctx: &Ctx, id: &str) -> CmdResult {
    let c = Container::load(&ctx.store, id)?;
    let text = serde_json::to_string_pretty(&c.oci_state()).unwrap_or_default();
    outln!("{}", text);
    Ok(0)
}
