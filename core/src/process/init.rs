//! `rune init <fd>`: the entry of every process rune starts inside a container. It reads its
//! `Config` from the channel and runs the stage it is given (see `message.rs`).

use super::channel::Channel;
use super::message::{InitConfig, Mode, Msg, NsType, Stage, WireError};
use super::setup;
use crate::err;
use crate::error::{Context, Error, Result};
use crate::namespaces;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// Runs the init; returns only on failure, with the exit code to use.
pub fn main(fd_arg: &str) -> i32 {
    reset_signals();
    let fd: RawFd = match fd_arg.parse() {
        Ok(fd) => fd,
        Err(_) => {
            eprintln!("rune init: bad channel fd {:?}", fd_arg);
            return 2;
        }
    };
    // SAFETY: the host passed this socket to us as `fd`; nothing else owns it here.
    let ch = unsafe { Channel::from_raw(fd) };
    // SAFETY: fcntl on our own fd.
    unsafe { libc::fcntl(ch.raw(), libc::F_SETFD, libc::FD_CLOEXEC) };
    match run(&ch) {
        Ok(()) => 0,
        Err(e) => {
            if ch.send(&Msg::Error(WireError::from_error(&e))).is_err() {
                eprintln!("rune init: {}", e);
            }
            1
        }
    }
}

fn run(ch: &Channel) -> Result<()> {
    let (msg, fds) = match ch.recv()? {
        Some(m) => m,
        // The host gave up (its own error is reported there): leave quietly.
        // SAFETY: exiting a process that has done nothing yet.
        None => unsafe { libc::_exit(1) },
    };
    let cfg = match msg {
        Msg::Config(cfg) => cfg,
        other => {
            return Err(err!(
                Internal,
                "rune init: expected Config, got {:?}",
                other
            ))
        }
    };
    match cfg.stage {
        Stage::Namespaces => stage_namespaces(&cfg, ch),
        Stage::Full => {
            for (t, p) in &cfg.join {
                namespaces::join(*t, p)?;
            }
            namespaces::unshare(cfg.unshare_flags)?;
            dispatch(&cfg, fds, ch)
        }
        Stage::Setup => {
            // Stage A left the mount namespace to us: rune had to be exec'd with the host's
            // root, where its ELF interpreter lives.
            for (t, p) in cfg.join.iter().filter(|(t, _)| *t == NsType::Mount) {
                namespaces::join(*t, p)?;
            }
            dispatch(&cfg, fds, ch)
        }
    }
}

fn dispatch(cfg: &InitConfig, fds: Vec<OwnedFd>, ch: &Channel) -> Result<()> {
    match cfg.mode {
        Mode::Create => setup::create(cfg, fds, ch),
        Mode::Exec => setup::exec(cfg, ch),
    }
}

/// Stage A: join and create namespaces, then start stage B as a child of the host
/// (CLONE_PARENT), which re-executes rune init to run with a fresh process image.
fn stage_namespaces(cfg: &InitConfig, ch: &Channel) -> Result<()> {
    let exe = nix::fcntl::open(
        "/proc/self/exe",
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .context("open /proc/self/exe")?;
    for (t, p) in cfg.join.iter().filter(|(t, _)| *t == NsType::User) {
        namespaces::join(*t, p)?;
        become_root()?;
    }
    if cfg.unshare_flags & libc::CLONE_NEWUSER != 0 {
        namespaces::unshare(libc::CLONE_NEWUSER)?;
        ch.send(&Msg::MapRequest {
            pid: std::process::id() as i32,
        })?;
        match ch.recv()? {
            Some((Msg::MapsDone, _)) => {}
            other => {
                return Err(err!(
                    Internal,
                    "expected MapsDone, got {:?}",
                    other.map(|m| m.0)
                ))
            }
        }
        become_root()?;
    }
    // A joined mount namespace is entered here too, last (the other paths resolve on the
    // host's /proc): stage B is then in the container's mount namespace and root from its
    // first instant in the container's pid namespace, so no process of the container can
    // reach the host's root through /proc/<pid>/root. Such a stage B goes on in this process
    // image instead of executing rune again (whose ELF interpreter the container's root may
    // not have); this process is single-threaded, so the fork-like clone is safe.
    let joins_mount = cfg.join.iter().any(|(t, _)| *t == NsType::Mount);
    let mut ns_files = Vec::new();
    for (t, p) in cfg.join.iter().filter(|(t, _)| *t != NsType::User) {
        ns_files.push((*t, namespaces::open(*t, p)?, p));
    }
    for (t, f, p) in &ns_files {
        if *t != NsType::Mount {
            namespaces::enter(*t, f, p)?;
        }
    }
    namespaces::unshare(cfg.unshare_flags & !libc::CLONE_NEWUSER)?;
    if cfg.unshare_flags & libc::CLONE_NEWTIME != 0 {
        // Offsets must be set before any process enters the namespace (stage B does).
        namespaces::write_time_offsets(&cfg.spec)?;
    }
    for (t, f, p) in &ns_files {
        if *t == NsType::Mount {
            namespaces::enter(*t, f, p)?;
        }
    }
    drop(ns_files);
    let fd_arg = std::ffi::CString::new(ch.raw().to_string()).unwrap_or_default();
    let argv = [
        c"rune".as_ptr(),
        c"init".as_ptr(),
        fd_arg.as_ptr(),
        std::ptr::null(),
    ];
    let envp = [c"RUNE_INIT=1".as_ptr(), std::ptr::null()];
    let flags = (libc::CLONE_PARENT | libc::SIGCHLD) as libc::c_ulong;
    // SAFETY: a fork-like clone; the child only makes raw system calls and execs.
    let pid = unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) };
    if pid < 0 {
        return Err(Error::io(
            "clone the container init",
            std::io::Error::last_os_error(),
        ));
    }
    if pid == 0 && joins_mount {
        // Stage B, already in every namespace: take the next Config and go on.
        drop(exe);
        let code = match stage_b(ch) {
            Ok(()) => 0,
            Err(e) => {
                if ch.send(&Msg::Error(WireError::from_error(&e))).is_err() {
                    eprintln!("rune init: {}", e);
                }
                1
            }
        };
        // SAFETY: ends stage B (it only returns on failure) without the host copy's handlers.
        unsafe { libc::_exit(code) }
    }
    if pid == 0 {
        // SAFETY: raw system calls on memory prepared before the clone.
        unsafe {
            libc::fcntl(ch.raw(), libc::F_SETFD, 0);
            libc::syscall(
                libc::SYS_execveat,
                exe.as_raw_fd(),
                c"".as_ptr(),
                argv.as_ptr(),
                envp.as_ptr(),
                libc::AT_EMPTY_PATH,
            );
            libc::_exit(127);
        }
    }
    ch.send(&Msg::Pid { pid: pid as i32 })?;
    // SAFETY: end stage A without running destructors or atexit handlers of the host copy.
    unsafe { libc::_exit(0) }
}

/// Stage B without a new process image: its namespaces were all joined by stage A.
fn stage_b(ch: &Channel) -> Result<()> {
    // Visible in the container's pid namespace from now on: not dumpable, so its processes
    // cannot read this one's memory or descriptors.
    crate::sys::prctl(libc::PR_SET_DUMPABLE, 0, "make rune init non-dumpable")?;
    match ch.recv()? {
        Some((Msg::Config(cfg), fds)) => dispatch(&cfg, fds, ch),
        Some((other, _)) => Err(err!(
            Internal,
            "rune init: expected Config, got {:?}",
            other
        )),
        // SAFETY: the host gave up; leave quietly.
        None => unsafe { libc::_exit(1) },
    }
}

fn become_root() -> Result<()> {
    // SAFETY: plain id system calls.
    unsafe {
        if libc::setresgid(0, 0, 0) != 0 || libc::setresuid(0, 0, 0) != 0 {
            return Err(Error::io(
                "become root in the user namespace",
                std::io::Error::last_os_error(),
            ));
        }
    }
    Ok(())
}

/// The host may have blocked signals (to forward them); the container must start clean.
fn reset_signals() {
    // SAFETY: an empty set unblocks everything; default dispositions for catchable signals.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        for s in 1..32 {
            // SIGPIPE stays ignored while rune runs; the payload gets it back at exec.
            if s != libc::SIGKILL && s != libc::SIGSTOP && s != libc::SIGPIPE {
                libc::signal(s, libc::SIG_DFL);
            }
        }
    }
}
