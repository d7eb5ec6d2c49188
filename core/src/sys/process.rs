//! Processes: waiting for them to change state (waitpid), and pidfds to wait on others.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// waitpid(2) for `pid` (-1: any child) with `flags` (WNOHANG, ...): the pid that changed
/// state and its raw wait status, or None when WNOHANG finds nothing to report.
pub fn waitpid(pid: i32, flags: libc::c_int) -> io::Result<Option<(i32, i32)>> {
    let mut status = 0;
    // SAFETY: waitpid writes the status into the int the pointer names, alive here.
    let r = unsafe { libc::waitpid(pid, &mut status, flags) };
    match r {
        r if r < 0 => Err(io::Error::last_os_error()),
        0 => Ok(None),
        r => Ok(Some((r, status))),
    }
}

/// pidfd_open(2): a descriptor for process `pid`, readable once it has exited.
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a new descriptor, owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}
