//! seccomp(2): loading a BPF filter, and probing which filter flags the kernel takes.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// SECCOMP_FILTER_FLAG_NEW_LISTENER: the call returns the notify descriptor.
pub const FLAG_NEW_LISTENER: libc::c_ulong = 1 << 3;

/// True when the kernel accepts filter `flags`: seccomp(SECCOMP_SET_MODE_FILTER) with no
/// program fails with EFAULT once the flags have passed its check (runc's probe).
pub fn flags_supported(flags: libc::c_ulong) -> bool {
    // SAFETY: a NULL program: the kernel checks the flags, then fails to read it; nothing is
    // loaded and no memory of ours is touched.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            std::ptr::null::<libc::sock_fprog>(),
        )
    };
    r < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EFAULT)
}

/// Loads `prog` into this process (seccomp SECCOMP_SET_MODE_FILTER with `flags`); with
/// FLAG_NEW_LISTENER among them, returns the notify descriptor.
pub fn load_filter(
    prog: &[libc::sock_filter],
    flags: libc::c_ulong,
) -> io::Result<Option<OwnedFd>> {
    let len = u16::try_from(prog.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "seccomp filter too long"))?;
    let fprog = libc::sock_fprog {
        len,
        filter: prog.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: the kernel only reads the `len` instructions `fprog` points to, alive here.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            &fprog as *const libc::sock_fprog,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    if flags & FLAG_NEW_LISTENER == 0 {
        return Ok(None);
    }
    // SAFETY: with NEW_LISTENER the kernel returned a new descriptor, owned by nothing else.
    Ok(Some(unsafe { OwnedFd::from_raw_fd(fd as RawFd) }))
}

/// memfd_create(2), close-on-exec: an anonymous file named `name`, for libseccomp to export a
/// filter into.
pub fn memfd(name: &std::ffi::CStr) -> io::Result<OwnedFd> {
    use nix::sys::memfd::{memfd_create, MFdFlags};
    memfd_create(name, MFdFlags::MFD_CLOEXEC).map_err(io::Error::from)
}
