use crate::cli::ExecArgs;
use crate::supervise;
use crate::{CmdResult, Ctx};
use rune_core::oci_spec::runtime::{Capability, Process};
use rune_core::{err, Container, Error, ExecOptions};

/// The process to run: from --process, or the container's own process with the flags applied
/// (as runc does).
fn process(c: &Container, a: &ExecArgs) -> rune_core::Result<Process> {
    if let Some(p) = &a.process {
        let text = std::fs::read(p)
            .map_err(|e| Error::io(format!("read process file {}", p.display()), e))?;
        return serde_json::from_slice(&text)
            .map_err(|e| err!(InvalidSpec, "invalid process file {}: {}", p.display(), e));
    }
    if a.command.is_empty() {
        return Err(err!(InvalidArgument, "exec: no command given"));
    }
    let mut p = c.state().config.process().clone().unwrap_or_default();
    p.set_args(Some(a.command.clone()));
    p.set_terminal(Some(a.tty));
    let mut env = p.env().clone().unwrap_or_default();
    env.extend(a.env.iter().cloned());
    p.set_env(Some(env));
    if let Some(cwd) = &a.cwd {
        p.set_cwd(cwd.clone());
    }
    if let Some(u) = &a.user {
        let (uid, gid) = match u.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (u.as_str(), None),
        };
        let mut user = p.user().clone();
        user.set_uid(
            uid.parse()
                .map_err(|_| err!(InvalidArgument, "invalid --user {:?}", u))?,
        );
        if let Some(g) = gid {
            user.set_gid(
                g.parse()
                    .map_err(|_| err!(InvalidArgument, "invalid --user {:?}", u))?,
            );
        }
        p.set_user(user);
    }
    if !a.additional_gids.is_empty() {
        let mut user = p.user().clone();
        user.set_additional_gids(Some(a.additional_gids.clone()));
        p.set_user(user);
    }
    if a.no_new_privs {
        p.set_no_new_privileges(Some(true));
    }
    if !a.cap.is_empty() {
        let mut caps = p.capabilities().clone().unwrap_or_default();
        for name in &a.cap {
            let up = name.to_ascii_uppercase();
            let full = if up.starts_with("CAP_") {
                up
            } else {
                format!("CAP_{}", up)
            };
            let cap: Capability = serde_json::from_value(serde_json::Value::String(full))
                .map_err(|_| err!(InvalidArgument, "unknown capability {:?}", name))?;
            let add = |s: Option<std::collections::HashSet<Capability>>| {
                let mut s = s.unwrap_or_default();
                s.insert(cap);
                Some(s)
            };
            caps.set_bounding(add(caps.bounding().clone()));
            caps.set_effective(add(caps.effective().clone()));
            caps.set_permitted(add(caps.permitted().clone()));
        }
        p.set_capabilities(Some(caps));
    }
    Ok(p)
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
    };
    let set = (!a.detach).then(supervise::block_signals);
    let started = c.exec(&opts)?;
    match set {
        None => Ok(0),
        Some(set) => Ok(supervise::supervise(started.pid, set, started.console).code()),
    }
}
