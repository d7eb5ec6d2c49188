//! Plain descriptor calls: open(2) of a path, one read(2) or write(2), and making a
//! descriptor this process's stdio.

use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::Path;

/// open(2) of `path` with the O_* `flags` (no O_CREAT, so no mode): a new descriptor.
pub fn open(path: &Path, flags: libc::c_int) -> io::Result<OwnedFd> {
    nix::fcntl::open(
        path,
        nix::fcntl::OFlag::from_bits_truncate(flags),
        nix::sys::stat::Mode::empty(),
    )
    .map_err(io::Error::from)
}

/// `path` opened O_PATH (close-on-exec): a handle on the file, neither read nor executed, for a
/// process that may not be able to reach the path (e.g. a library an init loads later).
pub fn open_path(path: &Path) -> io::Result<OwnedFd> {
    open(path, libc::O_PATH | libc::O_CLOEXEC)
}

/// One read(2) from `fd` into `buf`: how many bytes came (0 at the end).
pub fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    nix::unistd::read(fd, buf).map_err(io::Error::from)
}

/// One write(2) of `buf` to `fd`: how many bytes went.
pub fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    nix::unistd::write(fd, buf).map_err(io::Error::from)
}

/// One write(2) to a pipe or fifo that fails with EPIPE, without SIGPIPE, when its reader is
/// gone. SIGPIPE goes to the writing thread: blocked here around the write, and one the write
/// raised is taken before the old mask comes back. librune's host (a C program) may keep
/// SIGPIPE at its default, which kills the whole process.
pub fn write_no_sigpipe(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: sigset_t is plain data, initialised by sigemptyset before use; the mask calls
    // change only this thread's mask and are undone below.
    unsafe {
        let mut pipe: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut pipe);
        libc::sigaddset(&mut pipe, libc::SIGPIPE);
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, &pipe, &mut old);
        let mut pending: libc::sigset_t = std::mem::zeroed();
        libc::sigpending(&mut pending);
        let was_pending = libc::sigismember(&pending, libc::SIGPIPE) == 1;
        let r = write(fd, buf);
        if matches!(&r, Err(e) if e.raw_os_error() == Some(libc::EPIPE)) && !was_pending {
            // The kernel makes it pending before write returns; under valgrind, which queues
            // signals itself, it may come a moment later: wait a little for it then.
            for wait in [0, 50_000_000] {
                let t = libc::timespec {
                    tv_sec: 0,
                    tv_nsec: wait,
                };
                if libc::sigtimedwait(&pipe, std::ptr::null_mut(), &t) == libc::SIGPIPE {
                    break;
                }
            }
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        r
    }
}

/// All of `buf` to a pipe or fifo ([`write_no_sigpipe`]).
pub fn write_all_no_sigpipe(fd: BorrowedFd<'_>, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match write_no_sigpipe(fd, buf) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// dup2(2) of `fd` onto stdin, stdout and stderr, in that order.
pub fn dup_onto_stdio(fd: BorrowedFd<'_>) -> io::Result<()> {
    nix::unistd::dup2_stdin(fd)
        .and_then(|_| nix::unistd::dup2_stdout(fd))
        .and_then(|_| nix::unistd::dup2_stderr(fd))
        .map_err(io::Error::from)
}
