//! The kernel calls of the rootfs and namespace steps behind one trait, so that the steps can
//! be run against a recording fake in unit tests (no root, no mounts, no namespaces) and
//! against [`Linux`] for real. What opens descriptors in a real tree (openat2, the *at calls
//! that make directories and files) stays a plain `sys` function: a test gives it a temporary
//! directory.
//!
//! Every call that fails returns `Error::os(what(), errno)`: `what` names the call and its
//! object, as the free functions of `sys` do.

use crate::error::{Context, Error, Result};
use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::path::Path;

/// A message for a failed call, built only when it fails.
pub type What<'a> = &'a dyn Fn() -> String;

/// The kernel calls the rootfs and namespace steps make.
pub trait Syscall {
    /// mount(2).
    fn mount(
        &self,
        src: Option<&Path>,
        target: &Path,
        fstype: Option<&str>,
        flags: libc::c_ulong,
        data: Option<&str>,
        what: What,
    ) -> Result<()>;
    /// mount_setattr(2) on the mount whose root `fd` names (AT_RECURSIVE when `recursive`).
    fn mount_setattr(
        &self,
        fd: RawFd,
        recursive: bool,
        set: u64,
        clear: u64,
        what: What,
    ) -> Result<()>;
    /// The MS_* flags of the mount holding `path` (statvfs).
    fn mount_flags(&self, path: &Path) -> Result<libc::c_ulong>;
    /// /proc/self/mountinfo: the mount table as this process sees it now.
    fn mountinfo(&self) -> Result<String>;
    /// move_mount(2) of the detached tree `tree` onto the O_PATH descriptor `target`.
    fn move_mount_onto(&self, tree: RawFd, target: RawFd, what: What) -> Result<()>;
    /// umount2(2) with MNT_* `flags`.
    fn umount2(&self, target: &Path, flags: i32, what: What) -> Result<()>;
    /// pivot_root(2).
    fn pivot_root(&self, new_root: &Path, put_old: &Path, what: What) -> Result<()>;
    fn chdir(&self, path: &Path, what: What) -> Result<()>;
    fn fchdir(&self, dir: BorrowedFd<'_>, what: What) -> Result<()>;
    fn chroot(&self, path: &Path, what: What) -> Result<()>;
    /// mknodat(2): a node `name` under `dir` of `kind` (S_IFCHR, ...) and permission `mode`.
    fn mknodat(
        &self,
        dir: RawFd,
        name: &CStr,
        kind: libc::mode_t,
        mode: libc::mode_t,
        dev: libc::dev_t,
        what: What,
    ) -> Result<()>;
    /// symlinkat(2): `name` under `dir`, pointing at `target`.
    fn symlinkat(&self, target: &CStr, dir: RawFd, name: &CStr, what: What) -> Result<()>;
    /// chmod and chown of the file the O_PATH descriptor `fd` names.
    fn chmod_chown_fd(&self, fd: RawFd, mode: libc::mode_t, uid: u32, gid: u32) -> Result<()>;
    /// setns(2) into the namespace file `fd` of type `nstype` (CLONE_NEW*).
    fn setns(&self, fd: BorrowedFd<'_>, nstype: i32, what: What) -> Result<()>;
    /// unshare(2) of the CLONE_NEW* `flags`.
    fn unshare(&self, flags: i32, what: What) -> Result<()>;
    fn sethostname(&self, name: &str, what: What) -> Result<()>;
    fn setdomainname(&self, name: &str, what: What) -> Result<()>;
    /// setresgid(0, 0, 0) and setresuid(0, 0, 0): root of a user namespace just entered.
    fn become_root(&self, what: What) -> Result<()>;
}

/// The real kernel.
#[derive(Debug, Clone, Copy, Default)]
pub struct Linux;

fn nix_result(r: nix::Result<()>, what: What) -> Result<()> {
    r.map_err(|e| Error::os(what(), e as i32))
}

fn libc_result(r: libc::c_int, what: What) -> Result<()> {
    if r != 0 {
        return Err(Error::io(what(), std::io::Error::last_os_error()));
    }
    Ok(())
}

impl Syscall for Linux {
    fn mount(
        &self,
        src: Option<&Path>,
        target: &Path,
        fstype: Option<&str>,
        flags: libc::c_ulong,
        data: Option<&str>,
        what: What,
    ) -> Result<()> {
        super::mount(src, target, fstype, flags, data, what)
    }

    fn mount_setattr(
        &self,
        fd: RawFd,
        recursive: bool,
        set: u64,
        clear: u64,
        what: What,
    ) -> Result<()> {
        super::mount_setattr(fd, recursive, set, clear, what)
    }

    fn mount_flags(&self, path: &Path) -> Result<libc::c_ulong> {
        super::mount_flags(path)
    }

    fn mountinfo(&self) -> Result<String> {
        std::fs::read_to_string("/proc/self/mountinfo").context("read mountinfo")
    }

    fn move_mount_onto(&self, tree: RawFd, target: RawFd, what: What) -> Result<()> {
        super::move_mount_onto(tree, target, what)
    }

    fn umount2(&self, target: &Path, flags: i32, what: What) -> Result<()> {
        let flags = nix::mount::MntFlags::from_bits_retain(flags);
        nix_result(nix::mount::umount2(target, flags), what)
    }

    fn pivot_root(&self, new_root: &Path, put_old: &Path, what: What) -> Result<()> {
        nix_result(nix::unistd::pivot_root(new_root, put_old), what)
    }

    fn chdir(&self, path: &Path, what: What) -> Result<()> {
        nix_result(nix::unistd::chdir(path), what)
    }

    fn fchdir(&self, dir: BorrowedFd<'_>, what: What) -> Result<()> {
        nix_result(nix::unistd::fchdir(dir), what)
    }

    fn chroot(&self, path: &Path, what: What) -> Result<()> {
        nix_result(nix::unistd::chroot(path), what)
    }

    fn mknodat(
        &self,
        dir: RawFd,
        name: &CStr,
        kind: libc::mode_t,
        mode: libc::mode_t,
        dev: libc::dev_t,
        what: What,
    ) -> Result<()> {
        super::at::mknodat(dir, name, kind, mode, dev).map_err(|e| Error::io(what(), e))
    }

    fn symlinkat(&self, target: &CStr, dir: RawFd, name: &CStr, what: What) -> Result<()> {
        super::at::symlinkat(target, dir, name).map_err(|e| Error::io(what(), e))
    }

    fn chmod_chown_fd(&self, fd: RawFd, mode: libc::mode_t, uid: u32, gid: u32) -> Result<()> {
        super::chmod_chown_fd(fd, mode, uid, gid)
    }

    fn setns(&self, fd: BorrowedFd<'_>, nstype: i32, what: What) -> Result<()> {
        // SAFETY: setns on a descriptor the caller holds open; a wrong type fails with EINVAL.
        libc_result(unsafe { libc::setns(fd.as_raw_fd(), nstype) }, what)
    }

    fn unshare(&self, flags: i32, what: What) -> Result<()> {
        // SAFETY: unshare takes flags only.
        libc_result(unsafe { libc::unshare(flags) }, what)
    }

    fn sethostname(&self, name: &str, what: What) -> Result<()> {
        nix_result(nix::unistd::sethostname(name), what)
    }

    fn setdomainname(&self, name: &str, what: What) -> Result<()> {
        // SAFETY: a valid buffer and its length (no NUL needed).
        let r = unsafe { libc::setdomainname(name.as_ptr() as *const libc::c_char, name.len()) };
        libc_result(r, what)
    }

    fn become_root(&self, what: What) -> Result<()> {
        let (g, u) = (nix::unistd::Gid::from_raw(0), nix::unistd::Uid::from_raw(0));
        nix_result(
            nix::unistd::setresgid(g, g, g).and_then(|_| nix::unistd::setresuid(u, u, u)),
            what,
        )
    }
}

#[cfg(test)]
pub use fake::{Call, Fake};

#[cfg(test)]
#[path = "syscall_fake.rs"]
mod fake;
