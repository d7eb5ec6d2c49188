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
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// A process the PAL created: released (running) or not yet.
pub struct Proc {
    pub pid: i32,
    /// The child waits for one byte on this socket; None once released.
    pub release: Option<OwnedFd>,
}

fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// Forks a child that will run `compiled` with `argv`, `env` and `stdio` as its fds 0-2 once
/// released. Returns the process, or an errno.
pub fn spawn(
    compiled: &Compiled,
    argv: &[String],
    env: &[String],
    stdio: [RawFd; 3],
) -> Result<Proc, i32> {
    let mut sv = [-1; 2];
    // SAFETY: sv has room for the two descriptors socketpair writes.
    if unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            sv.as_mut_ptr(),
        )
    } < 0
    {
        return Err(errno());
    }
    // SAFETY: both descriptors were just made and are ours alone.
    let (ours, theirs) = unsafe { (OwnedFd::from_raw_fd(sv[0]), OwnedFd::from_raw_fd(sv[1])) };
    // No handler of the host may run in the child before it has reset them.
    let old = block_all();
    // SAFETY: the child runs `child_main`, which never returns; see there for what it may do.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        drop(ours);
        child_main(theirs.as_raw_fd(), compiled, argv, env, stdio);
    }
    let err = errno();
    set_mask(&old);
    drop(theirs);
    if pid < 0 {
        return Err(err);
    }
    Ok(Proc {
        pid,
        release: Some(ours),
    })
}

fn block_all() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data, filled by sigfillset; the old mask is written by
    // pthread_sigmask into `old`.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        old
    }
}

fn set_mask(set: &libc::sigset_t) {
    // SAFETY: `set` is a valid signal set.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, set, std::ptr::null_mut()) };
}

/// The child: default signal handling and no mask, whatever the host set up; waits to be
/// released (or exits 127 if never released: destroyed, or the host died); takes `stdio` as
/// its fds 0-2, closes the others and runs the module. It takes no lock the parent's other
/// threads may have held at the fork (glibc's malloc is ready for use after fork; Rust's
/// stdio locks are never used, see `module::stdio`).
fn child_main(
    sock: RawFd,
    compiled: &Compiled,
    argv: &[String],
    env: &[String],
    stdio: [RawFd; 3],
) -> ! {
    // SAFETY: resetting dispositions and the mask of this (single-threaded) child; sigaction
    // fails harmlessly for SIGKILL and SIGSTOP.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = libc::SIG_DFL;
        for sig in 1..libc::SIGRTMAX() {
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
    }
    let mut c = 0u8;
    let n = loop {
        // SAFETY: reads at most one byte into `c`.
        let n = unsafe { libc::read(sock, (&mut c as *mut u8).cast(), 1) };
        if n < 0 && errno() == libc::EINTR {
            continue;
        }
        break n;
    };
    if n != 1 {
        // SAFETY: _exit ends the process without running anything of the parent's.
        unsafe { libc::_exit(127) };
    }
    // The stdio fds may be 0-2 in any order: moved out of the way first; dup2 onto 0-2 then
    // clears FD_CLOEXEC.
    // SAFETY: plain descriptor calls on this process's table.
    unsafe {
        let tmp = stdio.map(|fd| match fd >= 0 {
            true => libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3),
            false => -1,
        });
        for (i, fd) in tmp.iter().enumerate() {
            if *fd >= 0 {
                libc::dup2(*fd, i as i32);
            }
        }
        libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
    }
    let code = compiled.run(argv, env);
    // SAFETY: as above.
    unsafe { libc::_exit(code) }
}

/// Lets a created process run its module.
pub fn release(p: &mut Proc) {
    if let Some(fd) = p.release.take() {
        loop {
            // SAFETY: sends one byte from a static buffer; MSG_NOSIGNAL: no SIGPIPE if the
            // child is already gone.
            let n =
                unsafe { libc::send(fd.as_raw_fd(), b"x".as_ptr().cast(), 1, libc::MSG_NOSIGNAL) };
            if n < 0 && errno() == libc::EINTR {
                continue;
            }
            break;
        }
    }
}

/// Waits until `pid` has ended, without reaping it (WNOWAIT): the caller reaps it with
/// [`reap`] under the lock. Returns an errno on failure.
pub fn wait_end(pid: i32) -> Result<(), i32> {
    loop {
        // SAFETY: siginfo_t is plain data written by waitid.
        let mut si: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waits on one child of ours, writing into `si`.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut si,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        match r {
            0 => return Ok(()),
            _ if errno() == libc::EINTR => continue,
            _ => return Err(errno()),
        }
    }
}

/// Reaps `pid` and returns its exit value as pal_exec gives it: the exit code, or 128 + N
/// when signal N ended it.
pub fn reap(pid: i32) -> Result<i32, i32> {
    let mut status = 0;
    loop {
        // SAFETY: reaps one child of ours into `status`.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r < 0 && errno() == libc::EINTR {
            continue;
        }
        if r < 0 {
            return Err(errno());
        }
        break;
    }
    Ok(match libc::WIFSIGNALED(status) {
        true => 128 + libc::WTERMSIG(status),
        false => libc::WEXITSTATUS(status),
    })
}

/// Sends `sig` to `pid`; an errno on failure.
pub fn signal(pid: i32, sig: i32) -> Result<(), i32> {
    // SAFETY: kill(2) on a pid of a child not yet reaped (see the module's comment).
    match unsafe { libc::kill(pid, sig) } {
        0 => Ok(()),
        _ => Err(errno()),
    }
}

/// Says why a module cannot be loaded on `fd` (the stderr it would have had; fd 2 if none).
pub fn complain(fd: RawFd, message: &str) {
    module::say_on(
        if fd >= 0 { fd } else { 2 },
        &format!("rune-wasm: {message}\n"),
    );
}
