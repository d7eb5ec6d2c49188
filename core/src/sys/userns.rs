//! A user namespace of given id maps, held by a descriptor (for mount_setattr's
//! MOUNT_ATTR_IDMAP, which takes the mapping of a user namespace).

use super::clone::pipe;
use crate::error::{Context, Error, Result};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// A new user namespace whose uid_map and gid_map are the texts given ("inside outside
/// count" lines). A child is cloned into it, waits while the maps are written and the
/// namespace opened, and is reaped before this returns. Safe from multi-threaded callers: the
/// child makes raw system calls only. Writing arbitrary maps needs root.
pub fn with_maps(uid_map: &str, gid_map: &str) -> Result<OwnedFd> {
    let (wait_r, wait_w) = pipe()?;
    let flags = (libc::CLONE_NEWUSER | libc::SIGCHLD) as libc::c_ulong;
    // SAFETY: a fork-like clone (no CLONE_VM, no new stack); the child only runs
    // `hold`, which makes raw system calls and ends in _exit.
    let pid = unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) };
    if pid < 0 {
        return Err(Error::io(
            "clone a user namespace for an id mapping",
            std::io::Error::last_os_error(),
        ));
    }
    if pid == 0 {
        // SAFETY: see above.
        unsafe { hold(wait_r.as_raw_fd(), wait_w.as_raw_fd()) }
    }
    let pid = pid as i32;
    drop(wait_r);
    let opened = write_and_open(pid, uid_map, gid_map);
    // The child sees end-of-file and exits.
    drop(wait_w);
    reap(pid);
    opened
}

fn write_and_open(pid: i32, uid_map: &str, gid_map: &str) -> Result<OwnedFd> {
    std::fs::write(format!("/proc/{}/uid_map", pid), uid_map)
        .with_context(|| format!("write uid_map {:?}", uid_map.trim()))?;
    std::fs::write(format!("/proc/{}/gid_map", pid), gid_map)
        .with_context(|| format!("write gid_map {:?}", gid_map.trim()))?;
    let ns = std::fs::File::open(format!("/proc/{}/ns/user", pid))
        .context("open the id mapping's user namespace")?;
    Ok(ns.into())
}

/// The child: closes its copy of the write end, then waits for end-of-file.
unsafe fn hold(wait_r: RawFd, wait_w: RawFd) -> ! {
    libc::close(wait_w);
    let mut b = 0u8;
    while libc::read(wait_r, &mut b as *mut u8 as *mut libc::c_void, 1) < 0
        && *libc::__errno_location() == libc::EINTR
    {}
    libc::_exit(0)
}

fn reap(pid: i32) {
    while matches!(
        super::process::waitpid(pid, libc::__WALL),
        Err(e) if e.raw_os_error() == Some(libc::EINTR)
    ) {}
}

/// mount_setattr(MOUNT_ATTR_IDMAP): gives the detached mount `tree` (and every mount below it
/// when `recursive`) the id mapping of the user namespace `userns`.
pub fn idmap_mount(tree: RawFd, recursive: bool, userns: RawFd) -> std::io::Result<()> {
    super::setattr(tree, recursive, libc::MOUNT_ATTR_IDMAP, 0, Some(userns))
}
