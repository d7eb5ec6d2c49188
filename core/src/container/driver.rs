//! The host side of an init's channel, for `create` and `exec` alike: spawns `rune init`,
//! sends it its configuration, answers its requests, hands on its console, and kills what it
//! started when anything fails. What create and exec answer differently is their [`Requests`].

use super::init_failure::died;
use crate::err;
use crate::error::{Context, Error, Result};
use crate::ipc::channel::{self, End};
use crate::process::message::{FromInit, HostEnd, InitConfig, Stage, ToInit};
use crate::process::{spawn, wait_exit};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

/// The host's answers to the requests where create and exec differ.
pub(crate) trait Requests {
    /// The Namespaces stage unshared a user namespace: write its uid and gid maps.
    fn write_maps(&mut self, _pid: i32) -> Result<()> {
        Err(unexpected("MapRequest"))
    }
    /// The mounts are done: run the host's hooks; returns the state the container's get.
    fn run_hooks(&mut self, _init_pid: i32) -> Result<String> {
        Err(unexpected("Hooks"))
    }
    /// The seccomp notify fd, for the config's listenerPath.
    fn seccomp(&mut self, init_pid: i32, fd: OwnedFd) -> Result<()>;
    /// The init died without a word: `e` says how; the caller may say more.
    fn died(&mut self, e: Error) -> Error {
        e
    }
}

fn unexpected(what: &str) -> Error {
    err!(Internal, "unexpected message from rune init: {}", what)
}

/// What a finished run of the protocol leaves.
pub(crate) struct Outcome {
    /// The container's init (create), or the process now executing (exec).
    pub pid: i32,
    /// The pty master, when the caller keeps it.
    pub console: Option<OwnedFd>,
    /// The enclave runtime's PAL version (0 without one).
    pub pal_version: u32,
}

/// A spawned `rune init` and its channel. Dropped before [`Driver::detach`], it kills and
/// reaps every process it started.
pub(crate) struct Driver {
    ch: HostEnd,
    child: spawn::Child,
    /// Processes to kill if anything fails: the first child, then the Setup stage once reported.
    pids: Vec<i32>,
}

impl Driver {
    /// Spawns `exe` as `rune init` in new namespaces `clone_flags`; the init's channel gets a
    /// number at or above `floor` (above the fds passed to the process).
    pub fn spawn(exe: &Path, floor: RawFd, clone_flags: i32) -> Result<Driver> {
        Driver::spawn_plan(floor, |fd| spawn::Plan::new(exe, fd, clone_flags))
    }

    /// Spawns `exe` as the init of an exec'd process (no namespace of its own: it joins the
    /// container's; see `spawn::Plan::exec`).
    pub fn spawn_exec(exe: &Path, floor: RawFd, ro_exe: bool) -> Result<Driver> {
        Driver::spawn_plan(floor, |fd| spawn::Plan::exec(exe, fd, ro_exe))
    }

    /// Spawns `exe` as the proxy for a process in an enclave (no namespaces, and it may
    /// outlive the caller).
    pub fn spawn_proxy(exe: &Path) -> Result<Driver> {
        Driver::spawn_plan(3, |fd| spawn::Plan::proxy(exe, fd))
    }

    fn spawn_plan(floor: RawFd, plan: impl FnOnce(RawFd) -> Result<spawn::Plan>) -> Result<Driver> {
        let (host, init) = channel::pair()?;
        let init = crate::sys::fdpass::dup_above(init.fd.as_fd(), floor.max(3), "init channel")?;
        let child = plan(init.as_raw_fd())?.spawn(init.as_raw_fd())?;
        Ok(Driver {
            ch: End::new(host),
            pids: vec![child.pid],
            child,
        })
    }

    /// Sends `msg` (with `fds`) to the init. A message it could not take because it is gone
    /// (EPIPE, ECONNRESET: e.g. the OOM killer of a too small memory limit took it) is reported
    /// as its closed channel is: how it ended, with the caller's hint (the memory limit). Other
    /// send errors stay as they are.
    fn send(
        &mut self,
        msg: &ToInit,
        fds: &[RawFd],
        init_pid: i32,
        calling: Option<&str>,
        req: &mut dyn Requests,
    ) -> Result<()> {
        let e = match self.ch.send_with_fds(msg, fds) {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if !matches!(e.errno(), Some(libc::EPIPE) | Some(libc::ECONNRESET)) {
            return Err(e);
        }
        Err(self.lost(init_pid, calling, req))
    }

    /// The init is gone: how it ended (reaped, so its pid is dropped from those to kill), with
    /// the caller's hint.
    fn lost(&mut self, init_pid: i32, calling: Option<&str>, req: &mut dyn Requests) -> Error {
        let e = died(&self.child, init_pid, calling);
        // Reaped: its pid may be anyone's now.
        self.pids.retain(|p| *p != init_pid);
        req.died(e)
    }

    /// The first child's pid.
    pub fn pid(&self) -> i32 {
        self.child.pid
    }

    /// Lets a child waiting for its user namespace maps go on.
    pub fn release(&mut self) -> Result<()> {
        self.child.release()
    }

    /// Tells a proxy (`spawn_proxy`) what it stands for: a process `kind` runs elsewhere,
    /// over `conn`.
    pub fn send_proxy(&self, kind: &str, conn: OwnedFd) -> Result<()> {
        let msg = ToInit::Proxy {
            kind: kind.to_string(),
        };
        self.ch.send_with_fds(&msg, &[conn.as_raw_fd()])
    }

    /// Sends `config` (with `fds`) and serves the init until it is ready (create) or has
    /// executed the process (exec).
    pub fn run(
        &mut self,
        stage: Stage,
        config: InitConfig,
        fds: &[RawFd],
        console_socket: Option<&Path>,
        req: &mut dyn Requests,
    ) -> Result<Outcome> {
        let exec = matches!(config, InitConfig::Exec(_));
        let mut start = ToInit::Start { stage, config };
        let mut init_pid = self.child.pid;
        self.send(&start, fds, init_pid, None, req)?;
        let mut console = None;
        let mut calling: Option<String> = None;
        loop {
            let (msg, mut fds_in) = match self.ch.recv()? {
                Some(m) => m,
                // An exec'd process's channel is close-on-exec: once the Setup stage is reported
                // (the init is no longer the first child), EOF is its execve.
                None if exec && init_pid != self.child.pid => break,
                None => return Err(self.lost(init_pid, calling.as_deref(), req)),
            };
            match msg {
                FromInit::MapRequest { pid } => {
                    req.write_maps(pid)?;
                    self.send(&ToInit::MapsDone, &[], init_pid, calling.as_deref(), req)?;
                }
                FromInit::Pid { pid } => {
                    self.pids.push(pid);
                    let _ = wait_exit(self.child.pid);
                    self.pids.retain(|p| *p != self.child.pid);
                    init_pid = pid;
                    if let ToInit::Start { stage, .. } = &mut start {
                        *stage = Stage::Setup;
                    }
                    self.send(&start, fds, init_pid, calling.as_deref(), req)?;
                }
                FromInit::Hooks => {
                    let state = req.run_hooks(init_pid)?;
                    let done = ToInit::HooksDone { state };
                    self.send(&done, &[], init_pid, calling.as_deref(), req)?;
                }
                FromInit::Console => {
                    let master = fds_in
                        .pop()
                        .ok_or_else(|| err!(Internal, "console message without a pty"))?;
                    match console_socket {
                        Some(sock) => crate::tty::send_to_socket(sock, master.as_raw_fd())?,
                        None => console = Some(master),
                    }
                }
                FromInit::Seccomp => {
                    let fd = fds_in
                        .pop()
                        .ok_or_else(|| err!(Internal, "seccomp message without an fd"))?;
                    req.seccomp(init_pid, fd)?;
                }
                FromInit::Calling { call } => calling = Some(call),
                FromInit::Ready { pal_version } if !exec => {
                    return Ok(Outcome {
                        pid: init_pid,
                        console,
                        pal_version,
                    })
                }
                FromInit::Ready { .. } => return Err(unexpected("Ready")),
                FromInit::Error(e) => return Err(e.into_error()),
            }
        }
        Ok(Outcome {
            pid: init_pid,
            console,
            pal_version: 0,
        })
    }

    /// Leaves the started processes running: the caller owns them now.
    pub fn detach(mut self) {
        self.pids.clear();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        for pid in &self.pids {
            let _ = crate::sys::signal::kill(*pid, libc::SIGKILL);
        }
        for pid in &self.pids {
            let _ = wait_exit(*pid);
        }
    }
}

/// The rune binary to run as `rune init`: the one given, or this executable.
pub(crate) fn init_binary(given: &Option<PathBuf>) -> Result<PathBuf> {
    match given {
        Some(p) => Ok(p.clone()),
        None => std::env::current_exe().context("find the rune binary"),
    }
}

/// LISTEN_FDS from socket activation, when meant for this process: (count, env to add).
pub(crate) fn listen_fds() -> (i32, Vec<String>) {
    let n: i32 = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let pid_ok = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        == Some(std::process::id());
    if n > 0 && pid_ok {
        (n, vec![format!("LISTEN_FDS={}", n), "LISTEN_PID=1".into()])
    } else {
        (0, Vec::new())
    }
}

/// runc's rules for `terminal` and `--console-socket`, shared by create and exec.
pub(crate) fn check_console_args(
    terminal: bool,
    socket: Option<&Path>,
    keep_console: bool,
) -> Result<()> {
    if terminal && socket.is_none() && !keep_console {
        return Err(err!(
            InvalidArgument,
            "cannot allocate tty if rune will detach without setting console socket"
        ));
    }
    if !terminal && socket.is_some() {
        return Err(err!(
            InvalidArgument,
            "cannot use console socket if rune will not detach or allocate tty"
        ));
    }
    if let Some(s) = socket {
        crate::tty::check_socket(s)?;
    }
    Ok(())
}
