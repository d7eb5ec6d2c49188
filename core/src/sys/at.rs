//! Files by descriptor, for walking a tree without following its symlinks: opening and reading
//! directories, stat, a symlink's target, an entry's owner, mode and times, and making and
//! removing entries (mkdirat, an exclusive create, unlinkat, symlinkat, mknodat).

use super::at_result;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{FchmodatFlags, Mode, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{Gid, Uid};
use std::ffi::{CStr, CString, OsString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// openat(2) of `name` under `at` with `flags` (O_*), and `mode` for a file it creates.
pub fn openat(at: BorrowedFd, name: &CStr, flags: i32, mode: libc::mode_t) -> io::Result<OwnedFd> {
    let flags = OFlag::from_bits_truncate(flags);
    nix::fcntl::openat(at, name, flags, Mode::from_bits_truncate(mode)).map_err(io::Error::from)
}

/// A directory being read (readdir(3) over its descriptor, which it owns).
pub struct Dir(nix::dir::Dir);

impl Dir {
    /// fdopendir(3) of a directory opened for reading.
    pub fn from_fd(fd: OwnedFd) -> io::Result<Dir> {
        nix::dir::Dir::from_fd(fd).map(Dir).map_err(io::Error::from)
    }

    /// The names of its entries but `.` and `..` (an entry that fails to read is skipped).
    pub fn names(&mut self) -> Vec<CString> {
        self.0
            .iter()
            .filter_map(|e| e.ok())
            .filter(|e| !matches!(e.file_name().to_bytes(), b"." | b".."))
            .map(|e| e.file_name().to_owned())
            .collect()
    }
}

impl AsFd for Dir {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

/// fstat(2) of the file `fd` names.
pub fn fstat(fd: BorrowedFd) -> io::Result<libc::stat> {
    nix::sys::stat::fstat(fd).map_err(io::Error::from)
}

/// fstatat(2) of `name` under `dir` with AT_SYMLINK_NOFOLLOW: a symlink's own.
pub fn lstat_at(dir: BorrowedFd, name: &CStr) -> io::Result<libc::stat> {
    nix::sys::stat::fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW).map_err(io::Error::from)
}

/// readlinkat(2): the target of the symlink `name` under `dir`, or the error (mod.rs's
/// `readlinkat` only tells whether there is one).
pub fn read_link_at(dir: BorrowedFd, name: &CStr) -> io::Result<OsString> {
    nix::fcntl::readlinkat(dir, name).map_err(io::Error::from)
}

/// fchownat(2) with AT_SYMLINK_NOFOLLOW: the owner of `name` under `dir` (a symlink's own).
pub fn lchown_at(dir: BorrowedFd, name: &CStr, uid: u32, gid: u32) -> io::Result<()> {
    let (uid, gid) = (Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)));
    nix::unistd::fchownat(dir, name, uid, gid, AtFlags::AT_SYMLINK_NOFOLLOW)
        .map_err(io::Error::from)
}

/// fchmodat(2): the permission bits of `name` under `dir` (a symlink is followed: the kernel
/// has no mode for a symlink itself).
pub fn chmod_at(dir: BorrowedFd, name: &CStr, mode: libc::mode_t) -> io::Result<()> {
    let mode = Mode::from_bits_truncate(mode);
    nix::sys::stat::fchmodat(dir, name, mode, FchmodatFlags::FollowSymlink).map_err(io::Error::from)
}

/// utimensat(2) with AT_SYMLINK_NOFOLLOW: the access and modification times of `name` under
/// `dir` (a symlink's own).
pub fn set_times_at(
    dir: BorrowedFd,
    name: &CStr,
    atime: libc::timespec,
    mtime: libc::timespec,
) -> io::Result<()> {
    let (atime, mtime) = (TimeSpec::from(atime), TimeSpec::from(mtime));
    nix::sys::stat::utimensat(dir, name, &atime, &mtime, UtimensatFlags::NoFollowSymlink)
        .map_err(io::Error::from)
}

/// mkdirat(2) under the directory `dir`.
pub fn mkdirat(dir: RawFd, name: &CStr, mode: libc::mode_t) -> io::Result<()> {
    // SAFETY: mkdirat on a directory fd with a NUL-terminated name.
    at_result(unsafe { libc::mkdirat(dir, name.as_ptr(), mode) })
}

/// Makes an empty regular file `name` under `dir` (O_CREAT|O_EXCL|O_NOFOLLOW): EEXIST when
/// anything is there already.
pub fn create_excl_at(dir: RawFd, name: &CStr, mode: libc::mode_t) -> io::Result<()> {
    let flags = libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: openat on a directory fd with a NUL-terminated name.
    let fd = unsafe { libc::openat(dir, name.as_ptr(), flags, mode as libc::c_uint) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new descriptor owned by us, closed here.
    drop(unsafe { OwnedFd::from_raw_fd(fd) });
    Ok(())
}

/// unlinkat(2) of a non-directory `name` under `dir`.
pub fn unlinkat(dir: RawFd, name: &CStr) -> io::Result<()> {
    // SAFETY: unlinkat on a directory fd with a NUL-terminated name.
    at_result(unsafe { libc::unlinkat(dir, name.as_ptr(), 0) })
}

/// symlinkat(2): `name` under `dir`, pointing at `target`.
pub fn symlinkat(target: &CStr, dir: RawFd, name: &CStr) -> io::Result<()> {
    // SAFETY: symlinkat with NUL-terminated strings and a directory fd.
    at_result(unsafe { libc::symlinkat(target.as_ptr(), dir, name.as_ptr()) })
}

/// mknodat(2): a node `name` under `dir` of `kind` (S_IFCHR, ...) and permission `mode`.
pub fn mknodat(
    dir: RawFd,
    name: &CStr,
    kind: libc::mode_t,
    mode: libc::mode_t,
    dev: libc::dev_t,
) -> io::Result<()> {
    // SAFETY: mknodat on a directory fd with a NUL-terminated name.
    at_result(unsafe { libc::mknodat(dir, name.as_ptr(), kind | (mode & 0o7777), dev) })
}

/// The target of the symlink `name` under `dir`, or None when it is no symlink.
pub fn readlinkat(dir: RawFd, name: &CStr) -> Option<std::path::PathBuf> {
    // SAFETY: the caller's open directory descriptor, borrowed for the call only.
    let dir = unsafe { BorrowedFd::borrow_raw(dir) };
    read_link_at(dir, name).ok().map(std::path::PathBuf::from)
}
