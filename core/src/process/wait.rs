//! Waiting for processes: children by waitpid, others by pidfd.

use crate::error::{Error, Result};
use std::os::fd::AsFd;
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
    loop {
        match crate::sys::process::waitpid(pid, 0) {
            Ok(Some((r, status))) if r == pid => return Ok(ExitStatus::from_raw(status)),
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            Err(e) => return Err(Error::io(format!("wait for process {}", pid), e)),
            // Without WNOHANG, waitpid for one pid reports that pid or fails.
            Ok(_) => continue,
        }
    }
}

/// Waits until process `pid` (not necessarily our child) has exited, up to `timeout`.
/// Returns true when it is gone (or a zombie).
pub fn wait_gone(pid: i32, start_time: u64, timeout: Duration) -> bool {
    if !crate::procfs::is_alive(pid, start_time) {
        return true;
    }
    let fd = crate::sys::process::pidfd_open(pid);
    let deadline = Instant::now() + timeout;
    if let Ok(fd) = fd {
        // The pid may have been reused between the liveness check and pidfd_open.
        if !crate::procfs::is_alive(pid, start_time) {
            return true;
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match crate::sys::poll::readable([fd.as_fd()], Some(left)) {
                Ok([false]) => return !crate::procfs::is_alive(pid, start_time),
                Ok([true]) => return true,
                Err(_) => {}
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
