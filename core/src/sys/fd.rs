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

/// One read(2) from `fd` into `buf`: how many bytes came (0 at the end).
pub fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    nix::unistd::read(fd, buf).map_err(io::Error::from)
}

/// One write(2) of `buf` to `fd`: how many bytes went.
pub fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    nix::unistd::write(fd, buf).map_err(io::Error::from)
}

/// dup2(2) of `fd` onto stdin, stdout and stderr, in that order.
pub fn dup_onto_stdio(fd: BorrowedFd<'_>) -> io::Result<()> {
    nix::unistd::dup2_stdin(fd)
        .and_then(|_| nix::unistd::dup2_stdout(fd))
        .and_then(|_| nix::unistd::dup2_stderr(fd))
        .map_err(io::Error::from)
}
