use crate::cli::CreateArgs;
use crate::{CmdResult, Ctx};
use rune_core::{Container, CreateOptions};

pub fn options(ctx: &Ctx, a: &CreateArgs) -> CreateOptions {
    CreateOptions {
        bundle: a.bundle.clone().unwrap_or_else(|| ".".into()),
        pid_file: a.pid_file.clone(),
        console_socket: a.console_socket.clone(),
        no_pivot: a.no_pivot,
        no_new_keyring: a.no_new_keyring,
        preserve_fds: a.preserve_fds,
        init_binary: None,
        keep_console: false,
        systemd_cgroup: ctx.systemd_cgroup,
        listen_fds: true,
        annotations: Vec::new(),
        config: None,
        start_at_once: false,
    }
}

pub fn run(ctx: &Ctx, a: CreateArgs) -> CmdResult {
    let created = Container::create(&ctx.store, &a.id, &options(ctx, &a))?;
    for w in &created.warnings {
        ctx.log.log("warning", w.message());
    }
    Ok(0)
}
