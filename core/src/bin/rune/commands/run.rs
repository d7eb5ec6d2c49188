use super::create::options;
use crate::cli::RunArgs;
use crate::supervise;
use crate::{CmdResult, Ctx};
use rune_core::Container;

pub fn run(ctx: &Ctx, a: RunArgs) -> CmdResult {
    let mut opts = options(ctx, &a.create);
    opts.keep_console = !a.detach && a.create.console_socket.is_none();
    opts.start_at_once = true;
    let set = (!a.detach).then(supervise::block_signals);
    if !a.detach && !a.no_subreaper {
        let _ = rune_core::sys::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, "become a subreaper");
    }
    let created = Container::create(&ctx.store, &a.create.id, &opts)?;
    for w in &created.warnings {
        ctx.log.log("warning", w.message());
    }
    let mut c = created.container;
    if let Err(e) = c.start_released() {
        let _ = Container::delete(&ctx.store, c.id(), true);
        return Err(e);
    }
    let set = match set {
        Some(s) => s,
        None => return Ok(0),
    };
    let status = supervise::supervise(c.state().init_pid, set, created.console);
    if !a.keep {
        match Container::delete(&ctx.store, c.id(), true) {
            Ok(warnings) => warnings
                .iter()
                .for_each(|w| ctx.log.log("warning", w.message())),
            Err(e) => ctx.log.error(e.message()),
        }
    }
    Ok(status.code())
}
