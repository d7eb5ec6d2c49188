use crate::cli::ExecArgs;
use crate::supervise;
use crate::{CmdResult, Ctx};
use rune_core::container::ProcessOverrides;
use rune_core::oci_spec::runtime::Process;
use rune_core::{err, Container, Error, ExecOptions};

/// The process to run: from --process as given, or the container's own process with the
/// flags applied (as runc does).
fn process(c: &Container, a: &ExecArgs) -> rune_core::Result<Process> {
    if let Some(p) = &a.process {
        let text = std::fs::read(p)
            .map_err(|e| Error::io(format!("read process file {}", p.display()), e))?;
        let what = format!("file {}", p.display());
        return rune_core::container::process_from_json(&text, &what, &c.state().config);
    }
    let (uid, gid) = match &a.user {
        Some(u) => {
            let bad = || err!(InvalidArgument, "invalid --user {:?}", u);
            let (uid, gid) = match u.split_once(':') {
                Some((u, g)) => (u, Some(g)),
                None => (u.as_str(), None),
            };
            (
                Some(uid.parse().map_err(|_| bad())?),
                gid.map(|g| g.parse().map_err(|_| bad())).transpose()?,
            )
        }
        None => (None, None),
    };
    let o = ProcessOverrides {
        args: Some(a.command.clone()),
        env: a.env.clone(),
        cwd: a.cwd.clone(),
        uid,
        gid,
        additional_gids: a.additional_gids.clone(),
        terminal: Some(a.tty),
        no_new_privs: a.no_new_privs,
        caps: a.cap.clone(),
    };
    o.apply(None, &c.state().config)
}

pub fn run(ctx: &Ctx, a: ExecArgs) -> CmdResult {
    let c = Container::load(&ctx.store, &a.id)?;
    let p = process(&c, &a)?;
    let terminal = p.terminal().unwrap_or(false);
    let opts = ExecOptions {
        process: p,
        pid_file: a.pid_file.clone(),
        console_socket: a.console_socket.clone(),
        preserve_fds: a.preserve_fds,
        init_binary: None,
        keep_console: terminal && !a.detach && a.console_socket.is_none(),
        listen_fds: true,
        ignore_paused: a.ignore_paused,
        sub_cgroups: a
            .cgroup
            .iter()
            .map(|c| match c.split_once(':') {
                Some((ctrls, path)) => (
                    Some(ctrls.split(',').map(String::from).collect()),
                    path.to_string(),
                ),
                None => (None, c.clone()),
            })
            .collect(),
    };
    let set = (!a.detach).then(supervise::block_signals);
    let started = c.exec(&opts)?;
    for w in &started.warnings {
        ctx.log.log("warning", w.message());
    }
    match set {
        None => Ok(0),
        Some(set) => Ok(supervise::supervise(started.pid, set, started.console).code()),
    }
}
