//! `rune init <fd>`: the entry of every process rune starts inside a container. Its first
//! message says what it is to be (see `message.rs`): an init of the stage it is given, or a
//! proxy. It returns how the process is to end; the binary writes the report and exits.

use super::message::{Common, FromInit, InitConfig, InitEnd, Stage, ToInit, WireError};
use super::setup;
use crate::err;
use crate::error::{Error, Result};
use crate::ipc::channel::Channel;
use crate::namespaces::NsType;
use crate::sys::syscall::{Linux, Syscall};
use crate::{namespaces, sys};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

/// How a `rune init` process ends: the code to exit with at once (`sys::exec::exit_now`), and
/// a line for its stderr when there is an error nobody else could be told of.
#[derive(Debug)]
pub struct Exit {
    pub code: i32,
    pub report: Option<String>,
}

/// Runs the init; returns only when the process is to end.
pub fn main(fd_arg: &str) -> Exit {
    sys::signal::reset_all();
    let fd: RawFd = match fd_arg.parse() {
        Ok(fd) => fd,
        Err(_) => return failed(2, format!("rune init: bad channel fd {:?}", fd_arg)),
    };
    let ch = match sys::fdpass::adopt_inherited(fd) {
        Ok(fd) => InitEnd::new(Channel::from_fd(fd)),
        Err(e) => return failed(2, format!("rune init: {}", e)),
    };
    let (msg, fds) = match ch.recv() {
        Ok(Some(m)) => m,
        // The host gave up (its own error is reported there): leave quietly.
        Ok(None) => return quiet(1),
        Err(e) => return ends(&ch, Err(e)),
    };
    match msg {
        ToInit::Start { stage, config } => {
            let r = start(&Linux, stage, &config, fds, &ch);
            ends(&ch, r)
        }
        ToInit::Proxy { kind } => match fds.into_iter().next() {
            Some(conn) => {
                let (code, e) = crate::workload::proxy(&kind, conn);
                Exit {
                    code,
                    report: e.map(|e| format!("rune: {}", e)),
                }
            }
            None => ends(
                &ch,
                Err(err!(Internal, "rune init: Proxy without a connection")),
            ),
        },
        other => ends(
            &ch,
            Err(err!(Internal, "rune init: expected Start, got {:?}", other)),
        ),
    }
}

fn quiet(code: i32) -> Exit {
    Exit { code, report: None }
}

fn failed(code: i32, report: String) -> Exit {
    Exit {
        code,
        report: Some(report),
    }
}

/// The end of an init: a failure goes to the host; printed only when the host cannot hear it,
/// and not at all when the host hung up first (it reports its own error).
fn ends(ch: &InitEnd, r: Result<i32>) -> Exit {
    match r {
        Ok(code) => quiet(code),
        Err(e) if is_host_gone(&e) => quiet(1),
        Err(e) => match ch.send(&FromInit::Error(WireError::from_error(&e))) {
            Ok(()) => quiet(1),
            Err(_) => failed(1, format!("rune init: {}", e)),
        },
    }
}

fn start(
    os: &dyn Syscall,
    stage: Stage,
    config: &InitConfig,
    fds: Vec<OwnedFd>,
    ch: &InitEnd,
) -> Result<i32> {
    let common = config.common();
    // Nothing of the caller's beyond stdio and the preserved fds stays open from here on: the
    // Namespaces stage joins the container's pid namespace, and the Setup stage it forks is seen
    // there (by a process with CAP_SYS_PTRACE, say) before it gets to its own set-up.
    let mut keep: Vec<RawFd> = fds.iter().map(|f| f.as_raw_fd()).collect();
    keep.push(ch.channel().raw());
    sys::close_fds_from(3 + common.preserve_fds, &keep)?;
    match stage {
        Stage::Namespaces => stage_namespaces(os, config, ch),
        Stage::Full => {
            finish_namespaces(os, common)?;
            set_up(os, config, fds, ch)
        }
        Stage::Setup => {
            // The Namespaces stage left the mount namespace to us: rune had to be exec'd with the
            // host's root, where its ELF interpreter lives.
            for (t, p) in common.join.iter().filter(|(t, _)| *t == NsType::Mount) {
                namespaces::join(os, *t, p)?;
            }
            set_up(os, config, fds, ch)
        }
    }
}

/// The clone made the new namespaces: join those named by path (never a user or pid one at this
/// stage: those need the Namespaces stage), then unshare what the clone left (a cgroup namespace,
/// made once the init is in its cgroup).
fn finish_namespaces(os: &dyn Syscall, common: &Common) -> Result<()> {
    for (t, p) in &common.join {
        namespaces::join(os, *t, p)?;
    }
    namespaces::unshare(os, common.unshare_flags)
}

fn set_up(os: &dyn Syscall, config: &InitConfig, fds: Vec<OwnedFd>, ch: &InitEnd) -> Result<i32> {
    match config {
        InitConfig::Create(c) => setup::create(os, c, fds, ch),
        InitConfig::Exec(c) => setup::exec(os, c, ch),
    }
}

/// The Namespaces stage: join and create namespaces, then start the Setup stage as a child of the
/// host (CLONE_PARENT), which re-executes rune init to run with a fresh process image.
fn stage_namespaces(os: &dyn Syscall, config: &InitConfig, ch: &InitEnd) -> Result<i32> {
    let cfg = config.common();
    let exe = sys::exec::open_self_exe()?;
    enter_namespaces(os, cfg, ch)?;
    let joins_mount = cfg.join.iter().any(|(t, _)| *t == NsType::Mount);
    let argv = sys::exec::init_argv(ch.channel().raw());
    match sys::clone::fork_sibling("clone the container init")? {
        // The Setup stage, already in every namespace: take the next Start and go on.
        None if joins_mount => {
            drop(exe);
            setup_stage_here(os, ch)
        }
        None => {
            sys::fdpass::keep_on_exec(ch.channel().fd.as_fd())?;
            Err(sys::exec::execveat_empty(exe.as_fd(), &argv, &[]))
        }
        Some(pid) => {
            ch.send(&FromInit::Pid { pid })?;
            Ok(0)
        }
    }
}

/// The Namespaces stage's namespace steps: the user namespace first (joined, or unshared and mapped
/// by the host), then the others, the mount namespace last.
fn enter_namespaces(os: &dyn Syscall, cfg: &Common, ch: &InitEnd) -> Result<()> {
    for (t, p) in cfg.join.iter().filter(|(t, _)| *t == NsType::User) {
        namespaces::join(os, *t, p)?;
        become_root(os)?;
    }
    if cfg.unshare_flags & libc::CLONE_NEWUSER != 0 {
        namespaces::unshare(os, libc::CLONE_NEWUSER)?;
        ch.send(&FromInit::MapRequest {
            pid: std::process::id() as i32,
        })?;
        match ch.recv()? {
            Some((ToInit::MapsDone, _)) => {}
            None => return Err(super::message::host_gone()),
            Some((other, _)) => return Err(err!(Internal, "expected MapsDone, got {:?}", other)),
        }
        become_root(os)?;
    }
    // A joined mount namespace is entered here too, last (the other paths resolve on the
    // host's /proc): the Setup stage is then in the container's mount namespace and root from its
    // first instant in the container's pid namespace, so no process of the container can
    // reach the host's root through /proc/<pid>/root. Such a Setup stage goes on in this process
    // image instead of executing rune again (whose ELF interpreter the container's root may
    // not have); this process is single-threaded, so the fork-like clone is safe.
    let mut ns_files = Vec::new();
    for (t, p) in cfg.join.iter().filter(|(t, _)| *t != NsType::User) {
        ns_files.push((*t, namespaces::open(*t, p)?, p));
    }
    for (t, f, p) in &ns_files {
        if *t != NsType::Mount {
            namespaces::enter(os, *t, f, p)?;
        }
    }
    namespaces::unshare(os, cfg.unshare_flags & !libc::CLONE_NEWUSER)?;
    if cfg.unshare_flags & libc::CLONE_NEWTIME != 0 {
        // Offsets must be set before any process enters the namespace (the Setup stage does).
        // Having become root of a new user namespace made this process non-dumpable, and so its
        // /proc files the host root's, which this uid cannot write: dumpable for the write (the
        // Namespaces stage is in no namespace a container process can see), then not again.
        sys::prctl(
            libc::PR_SET_DUMPABLE,
            1,
            "make the Namespaces stage dumpable",
        )?;
        let written = namespaces::write_time_offsets(&cfg.spec);
        sys::prctl(
            libc::PR_SET_DUMPABLE,
            0,
            "make the Namespaces stage non-dumpable",
        )?;
        written?;
    }
    for (t, f, p) in &ns_files {
        if *t == NsType::Mount {
            namespaces::enter(os, *t, f, p)?;
        }
    }
    Ok(())
}

/// The Setup stage without a new process image: its namespaces were all joined by the Namespaces
/// stage.
fn setup_stage_here(os: &dyn Syscall, ch: &InitEnd) -> Result<i32> {
    // Visible in the container's pid namespace from now on: not dumpable, so its processes
    // cannot read this one's memory or descriptors.
    sys::prctl(libc::PR_SET_DUMPABLE, 0, "make rune init non-dumpable")?;
    match ch.recv()? {
        Some((ToInit::Start { config, .. }, fds)) => set_up(os, &config, fds, ch),
        Some((other, _)) => Err(err!(Internal, "rune init: expected Start, got {:?}", other)),
        None => Err(super::message::host_gone()),
    }
}

fn is_host_gone(e: &Error) -> bool {
    e.cause() == Some(crate::error::Cause::PeerClosed)
}

fn become_root(os: &dyn Syscall) -> Result<()> {
    os.become_root(&|| "become root in the user namespace".into())
}

#[cfg(test)]
#[path = "init_tests.rs"]
mod tests;
