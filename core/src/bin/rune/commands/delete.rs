use crate::cli::DeleteArgs;
use crate::{CmdResult, Ctx};
use rune_core::{Container, ErrorKind};

pub fn run(ctx: &Ctx, a: DeleteArgs) -> CmdResult {
    match Container::delete(&ctx.store, &a.id, a.force) {
        Ok(warnings) => {
            for w in warnings {
                ctx.log.log("warning", w.message());
            }
            Ok(0)
        }
        // `delete --force` of a container that does not exist succeeds, as with runc.
        Err(e) if a.force && e.kind() == ErrorKind::NotFound => Ok(0),
        Err(e) => Err(e),
    }
}
