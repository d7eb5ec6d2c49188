//! Executing programs: execve with the payload's signal dispositions, and access checks.

use super::{cstr, CStrArray};
use crate::error::{Error, Result};
use std::ffi::{CStr, CString};
use std::path::Path;

/// execve(2) with SIGPIPE back at its default (rune ignores it while it runs); returns only
/// the failure, which names the program.
pub fn execve(path: &CStr, argv: &[CString], envp: &[CString]) -> Error {
    let (a, e) = (CStrArray::new(argv), CStrArray::new(envp));
    // SAFETY: signal() with a valid disposition; execve with a NUL-terminated path and
    // NULL-terminated arrays of NUL-terminated strings that outlive the call.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::execve(path.as_ptr(), a.as_ptr(), e.as_ptr());
    }
    Error::io(
        format!("exec {}", path.to_string_lossy()),
        std::io::Error::last_os_error(),
    )
}

/// access(2) X_OK: whether this process may execute `p`.
pub fn may_execute(p: &Path) -> Result<bool> {
    let c = cstr(p)?;
    // SAFETY: a valid NUL-terminated path.
    Ok(unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0)
}

/// Ends the process at once: no destructors, no atexit handlers (of a PAL, say), no flushing.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and has no preconditions.
    unsafe { libc::_exit(code) }
}

/// The rune binary this process runs, opened O_PATH (to execute it again with execveat).
pub fn open_self_exe() -> Result<std::os::fd::OwnedFd> {
    nix::fcntl::open(
        "/proc/self/exe",
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| Error::os("open /proc/self/exe", e as i32))
}

/// `rune init <fd>`: the command line of every init, `fd` its channel.
pub fn init_argv(fd: std::os::fd::RawFd) -> Vec<CString> {
    // A number's digits hold no NUL.
    let fd = CString::new(fd.to_string()).unwrap_or_default();
    vec![CString::from(c"rune"), CString::from(c"init"), fd]
}

/// execveat(fd, "", AT_EMPTY_PATH): executes the file `fd` names; returns only the failure.
pub fn execveat_empty(
    fd: std::os::fd::BorrowedFd<'_>,
    argv: &[CString],
    envp: &[CString],
) -> Error {
    use std::os::fd::AsRawFd;
    let (a, e) = (CStrArray::new(argv), CStrArray::new(envp));
    // SAFETY: an open fd, an empty NUL-terminated path, NULL-terminated arrays that outlive
    // the call.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            fd.as_raw_fd(),
            c"".as_ptr(),
            a.as_ptr(),
            e.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    };
    Error::io("execute rune init", std::io::Error::last_os_error())
}
