//! The init's own identity calls: domain name, session keyring, umask.

use crate::error::{Error, Result};
use std::ffi::CString;

/// setdomainname(2).
pub fn setdomainname(name: &str) -> Result<()> {
    // SAFETY: a valid buffer and its length.
    if unsafe { libc::setdomainname(name.as_ptr() as *const libc::c_char, name.len()) } != 0 {
        return Err(Error::io(
            format!("set domainname {:?}", name),
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

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
