//! Files by descriptor, for walking a tree without following its symlinks: opening and reading
//! directories, stat, a symlink's target, and an entry's owner, mode and times (the *at calls
//! that make entries are in mod.rs).

use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{FchmodatFlags, Mode, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{Gid, Uid};
use std::ffi::{CStr, CString, OsString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

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
