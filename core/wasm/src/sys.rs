//! Every libc call of the engine, behind small typed functions (as rune-core's `sys/`): the
//! module runner and the PAL's processes hold no unsafe code of their own.

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// The errno of the last failed call.
pub fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// A connected pair of close-on-exec unix stream sockets.
pub fn socketpair() -> Result<(OwnedFd, OwnedFd), i32> {
    let mut sv = [-1; 2];
    // SAFETY: sv has room for the two descriptors socketpair writes.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            sv.as_mut_ptr(),
        )
    };
    if r < 0 {
        return Err(errno());
    }
    // SAFETY: both descriptors were just made and are ours alone.
    Ok(unsafe { (OwnedFd::from_raw_fd(sv[0]), OwnedFd::from_raw_fd(sv[1])) })
}

/// Forks, every signal blocked across the fork (no handler of this process may run in the
/// child before it has reset them), and runs `child` in the child, which then exits (127 if
/// `child` returns). The child is a copy of a possibly threaded process: `child` must take no
/// lock another thread may have held (glibc's malloc is ready after fork; Rust's stdio locks
/// are not). Returns the child's pid, or an errno.
pub fn fork_into(child: impl FnOnce()) -> Result<i32, i32> {
    // SAFETY: sigset_t is plain data filled by sigfillset; pthread_sigmask writes the old mask.
    let old = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        old
    };
    // SAFETY: the child runs `child` only, which never returns (its contract above).
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        child();
        exit_now(127);
    }
    let err = errno();
    // SAFETY: `old` is the mask pthread_sigmask returned.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
    match pid {
        p if p < 0 => Err(err),
        p => Ok(p),
    }
}

/// This (single-threaded, just forked) process gets the default handling of every signal and
/// no mask, whatever its parent had set up.
pub fn reset_signals() {
    // SAFETY: resetting dispositions and the mask of this process; sigaction fails harmlessly
    // for SIGKILL and SIGSTOP.
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
}

/// Waits for one byte on `fd`: true when one came, false at end of file or on an error.
pub fn read_byte(fd: RawFd) -> bool {
    let mut c = 0u8;
    loop {
        // SAFETY: reads at most one byte into `c`.
        let n = unsafe { libc::read(fd, (&mut c as *mut u8).cast(), 1) };
        if n < 0 && errno() == libc::EINTR {
            continue;
        }
        return n == 1;
    }
}

/// Sends one byte on the socket `fd`, without SIGPIPE if its peer is gone.
pub fn send_byte(fd: &OwnedFd) {
    loop {
        // SAFETY: sends one byte from a static buffer.
        let n = unsafe { libc::send(fd.as_raw_fd(), b"x".as_ptr().cast(), 1, libc::MSG_NOSIGNAL) };
        if n < 0 && errno() == libc::EINTR {
            continue;
        }
        return;
    }
}

/// Makes `stdio` (fds of this process, -1: keep that one) its fds 0-2 and closes every other
/// descriptor. They may be 0-2 in any order: each is moved out of the way first; dup2 onto 0-2
/// clears close-on-exec.
pub fn install_stdio(stdio: [RawFd; 3]) {
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
}

/// Closes `fd` of this process (in a forked child: its copy of a descriptor an OwnedFd of the
/// parent's owns).
pub fn close(fd: RawFd) {
    // SAFETY: closes a descriptor number; nothing of this process uses it afterwards.
    unsafe { libc::close(fd) };
}

/// Whether `fd` is an open descriptor of this process.
pub fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only reads the descriptor's flags.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// A duplicate of `fd` (at 3 or above, close-on-exec) as a file of its own; None when `fd` is
/// not open.
pub fn dup_file(fd: RawFd) -> Option<File> {
    // SAFETY: F_DUPFD_CLOEXEC returns a new descriptor that nothing else owns, or -1.
    let owned = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    // SAFETY: `owned` is open and ours alone (checked).
    (owned >= 0).then(|| unsafe { File::from_raw_fd(owned) })
}

/// Writes all of `b` to `fd` with write(2) alone (no lock, no allocation), ignoring failures.
pub fn write_all(fd: RawFd, mut b: &[u8]) {
    while !b.is_empty() {
        // SAFETY: writes from a live slice of b.len() bytes.
        let n = unsafe { libc::write(fd, b.as_ptr().cast(), b.len()) };
        if n < 0 && errno() == libc::EINTR {
            continue;
        }
        if n <= 0 {
            return;
        }
        b = &b[n as usize..];
    }
}

/// Ends this process at once with `code`, running nothing of its parent's (atexit handlers,
/// buffers): for a forked child, and from a signal handler.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit is async-signal-safe and ends the process.
    unsafe { libc::_exit(code) }
}

extern "C" fn end(sig: libc::c_int) {
    exit_now(128 + sig)
}

/// Makes each of `sigs` end this process with 128 + the signal, as a shell's exit code says.
pub fn end_on(sigs: &[i32]) {
    for sig in sigs {
        // SAFETY: installs an async-signal-safe handler (it only calls _exit).
        unsafe {
            libc::signal(
                *sig,
                end as extern "C" fn(libc::c_int) as libc::sighandler_t,
            )
        };
    }
}

/// Waits until child `pid` has ended, without reaping it (WNOWAIT); an errno on failure.
pub fn wait_ended(pid: i32) -> Result<(), i32> {
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

/// Reaps child `pid`: its wait status, or an errno.
pub fn reap(pid: i32) -> Result<i32, i32> {
    let mut status = 0;
    loop {
        // SAFETY: reaps one child of ours into `status`.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r < 0 && errno() == libc::EINTR {
            continue;
        }
        return if r < 0 { Err(errno()) } else { Ok(status) };
    }
}

/// Sends `sig` to `pid`; an errno on failure.
pub fn kill(pid: i32, sig: i32) -> Result<(), i32> {
    // SAFETY: kill(2) with integer arguments.
    match unsafe { libc::kill(pid, sig) } {
        0 => Ok(()),
        _ => Err(errno()),
    }
}
