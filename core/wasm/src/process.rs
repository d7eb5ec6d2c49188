//! The PAL's processes: each module runs in a child process of the enclave's host (the
//! container's init), as the skeleton runs its payloads. With no SGX here the "enclave" is
//! simulated, and a process of its own gives a module what a process in an enclave gets: its
//! own memory, signals that end it whatever it is doing (a busy loop, a blocking read), and a
//! wait status.
//!
//! `spawn` forks a child that resets its signal state and waits on a socket; `release` lets it
//! run the module; `wait` waits for its end with waitid(WNOWAIT) and reaps it under the lock,
//! so that a pid in the table is never a reaped (reusable) one and `kill` can signal it safely.

use crate::module::{self, Compiled};
use crate::sys;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// A process the PAL created: released (running) or not yet.
pub struct Proc {
    pub pid: i32,
    /// The child waits for one byte on this socket; None once released.
    pub release: Option<OwnedFd>,
}

/// Forks a child that will run `compiled` with `argv`, `env` and `stdio` as its fds 0-2 once
/// released. Returns the process, or an errno.
pub fn spawn(
    compiled: &Compiled,
    argv: &[String],
    env: &[String],
    stdio: [RawFd; 3],
) -> Result<Proc, i32> {
    let (ours, theirs) = sys::socketpair()?;
    let ours_fd = ours.as_raw_fd();
    let pid = sys::fork_into(|| {
        // The host's end: the child sees end of file if the host goes.
        sys::close(ours_fd);
        child_main(theirs.as_raw_fd(), compiled, argv, env, stdio)
    })?;
    Ok(Proc {
        pid,
        release: Some(ours),
    })
}

/// The child: default signal handling and no mask, whatever the host set up; waits to be
/// released (or exits 127 if never released: destroyed, or the host died); takes `stdio` as
/// its fds 0-2, closes the others and runs the module. It takes no lock the parent's other
/// threads may have held at the fork (see `sys::fork_into`; the module's stdio are its own
/// duplicates, used without Rust's stdio locks, see `module::stdio`).
fn child_main(
    sock: RawFd,
    compiled: &Compiled,
    argv: &[String],
    env: &[String],
    stdio: [RawFd; 3],
) -> ! {
    sys::reset_signals();
    if !sys::read_byte(sock) {
        sys::exit_now(127);
    }
    sys::install_stdio(stdio);
    sys::exit_now(compiled.run(argv, env))
}

/// Lets a created process run its module.
pub fn release(p: &mut Proc) {
    if let Some(fd) = p.release.take() {
        sys::send_byte(&fd);
    }
}

/// Waits until `pid` has ended, without reaping it: the caller reaps it with [`reap`] under
/// the lock. Returns an errno on failure.
pub fn wait_end(pid: i32) -> Result<(), i32> {
    sys::wait_ended(pid)
}

/// Reaps `pid` and returns its exit value as pal_exec gives it: the exit code, or 128 + N
/// when signal N ended it.
pub fn reap(pid: i32) -> Result<i32, i32> {
    let status = sys::reap(pid)?;
    Ok(match libc::WIFSIGNALED(status) {
        true => 128 + libc::WTERMSIG(status),
        false => libc::WEXITSTATUS(status),
    })
}

/// Sends `sig` to `pid`; an errno on failure.
pub fn signal(pid: i32, sig: i32) -> Result<(), i32> {
    sys::kill(pid, sig)
}

/// Says why a module cannot be loaded on `fd` (the stderr it would have had; fd 2 if none).
pub fn complain(fd: RawFd, message: &str) {
    module::say_on(
        if fd >= 0 { fd } else { 2 },
        &format!("rune-wasm: {message}\n"),
    );
}
