//! The init's session: its keyring and umask.

use std::ffi::CString;

/// Joins a new session keyring `_ses.<id>`. Failures (ENOSYS, EPERM) are ignored, as runc
/// does: the container then shares the caller's keyring.
pub fn join_session_keyring(id: &str) {
    let name = CString::new(format!("_ses.{}", id)).unwrap_or_default();
    // SAFETY: keyctl(KEYCTL_JOIN_SESSION_KEYRING, name) with a NUL-terminated name.
    unsafe { libc::syscall(libc::SYS_keyctl, 1, name.as_ptr()) };
}

/// umask(2), which cannot fail.
pub fn umask(mask: libc::mode_t) {
    // SAFETY: umask only sets the process's file mode creation mask.
    unsafe { libc::umask(mask) };
}

/// umask(2), returning the mask it replaces (the unit tests set and restore it).
#[cfg(test)]
pub fn replace_umask(mask: libc::mode_t) -> libc::mode_t {
    // SAFETY: umask only sets the process's file mode creation mask.
    unsafe { libc::umask(mask) }
}

/// setsid(2): this process leads a new session (and loses its controlling terminal).
pub fn setsid() -> std::io::Result<()> {
    nix::unistd::setsid()
        .map(drop)
        .map_err(std::io::Error::from)
}
