//! Waiting for processes: children by waitpid, others by pidfd.

use crate::error::{Error, Result};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Exited(i32),
    Signaled(i32),
}

impl ExitStatus {
    /// The shell's convention, as runc reports it: the code, or 128+N for signal N.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => c,
            ExitStatus::Signaled(s) => 128 + s,
        }
    }

    pub fn from_raw(status: i32) -> ExitStatus {
        if libc::WIFSIGNALED(status) {
            ExitStatus::Signaled(libc::WTERMSIG(status))
        } else {
            ExitStatus::Exited(libc::WEXITSTATUS(status))
        }
    }
}

/// Waits for a child of this process to end (retrying on EINTR).
pub fn wait_exit(pid: i32) -> Result<ExitStatus> {
    let mut status = 0;
    loop {
        // SAFETY: plain waitpid on a pid with a valid status pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return Ok(ExitStatus::from_raw(status));
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return Err(Error::io(format!("wait for process {}", pid), e));
    }
}

/// Waits until process `pid` (not necessarily our child) has exited, up to `timeout`.
/// Returns true when it is gone (or a zombie).
pub fn wait_gone(pid: i32, start_time: u64, timeout: Duration) -> bool {
    if !crate::procfs::is_alive(pid, start_time) {
        return true;
    }
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let deadline = Instant::now() + timeout;
    if fd >= 0 {
        // SAFETY: a new descriptor owned by us.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
        // The pid may have been reused between the liveness check and pidfd_open.
        if !crate::procfs::is_alive(pid, start_time) {
            return true;
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let mut p = libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            let r = unsafe { libc::poll(&mut p, 1, left.as_millis().min(i32::MAX as u128) as i32) };
            if r > 0 {
                return true;
            }
            if r == 0 {
                return !crate::procfs::is_alive(pid, start_time);
            }
        }
    }
    while Instant::now() < deadline {
        if !crate::procfs::is_alive(pid, start_time) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    !crate::procfs::is_alive(pid, start_time)
}
