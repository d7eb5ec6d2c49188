//! `tmpcopyup`: a tmpfs mounted over a directory starts with a copy of what the directory
//! held (an extension of runc's and crun's; Podman asks for it on `--tmpfs`). Copied by
//! descriptor, from the directory underneath the new mount (the fd opened before the mount
//! still names it) into the mount: every step is an *at call with AT_SYMLINK_NOFOLLOW or
//! O_NOFOLLOW, so a symlink in the rootfs is copied as a symlink and never followed.
//! Owners, modes, device numbers and times are kept; hard links become separate files and
//! extended attributes are not copied.

use crate::error::{Error, Result};
use nix::dir::Dir;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{fchmodat, fstatat, mknodat, utimensat, FchmodatFlags, Mode, SFlag};
use nix::sys::stat::{FileStat, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchownat, Gid, Uid};
use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// Copies the contents of the directory `from` into the directory `to` (O_PATH fds will do).
pub fn copy_dir(from: &OwnedFd, to: &OwnedFd) -> Result<()> {
    let src = open_dir(from.as_fd(), c".")?;
    let dst = open_dir(to.as_fd(), c".")?;
    copy_entries(src, dst.as_fd(), 0)
}

fn os(what: String) -> impl FnOnce(nix::Error) -> Error {
    move |e| Error::os(format!("tmpcopyup: {}", what), e as i32)
}

fn open_dir(at: BorrowedFd, name: &CStr) -> Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    nix::fcntl::openat(at, name, flags, Mode::empty())
        .map_err(os(format!("open {}", name.to_string_lossy())))
}

fn copy_entries(src: OwnedFd, dst: BorrowedFd, depth: u32) -> Result<()> {
    if depth > 256 {
        return Err(crate::err!(
            Internal,
            "tmpcopyup: directories nested too deep"
        ));
    }
    let mut dir = Dir::from_fd(src).map_err(os("read directory".into()))?;
    let names: Vec<CString> = dir
        .iter()
        .filter_map(|e| e.ok())
        .filter(|e| !matches!(e.file_name().to_bytes(), b"." | b".."))
        .map(|e| e.file_name().to_owned())
        .collect();
    for name in names {
        copy_one(dir.as_fd(), dst, &name, depth)?;
    }
    Ok(())
}

fn copy_one(src: BorrowedFd, dst: BorrowedFd, name: &CStr, depth: u32) -> Result<()> {
    let what = || name.to_string_lossy().into_owned();
    let st =
        fstatat(src, name, AtFlags::AT_SYMLINK_NOFOLLOW).map_err(os(format!("stat {}", what())))?;
    let kind = SFlag::from_bits_truncate(st.st_mode & libc::S_IFMT);
    let mode = Mode::from_bits_truncate(st.st_mode & 0o7777);
    match kind {
        SFlag::S_IFDIR => {
            nix::sys::stat::mkdirat(dst, name, Mode::from_bits_truncate(0o700))
                .map_err(os(format!("mkdir {}", what())))?;
            let (s, d) = (open_dir(src, name)?, open_dir(dst, name)?);
            copy_entries(s, d.as_fd(), depth + 1)?;
        }
        SFlag::S_IFREG => copy_file(src, dst, name)?,
        SFlag::S_IFLNK => {
            let target =
                nix::fcntl::readlinkat(src, name).map_err(os(format!("readlink {}", what())))?;
            nix::unistd::symlinkat(target.as_os_str(), dst, name)
                .map_err(os(format!("symlink {}", what())))?;
        }
        _ => mknodat(dst, name, kind, mode, st.st_rdev).map_err(os(format!("mknod {}", what())))?,
    }
    set_attrs(dst, name, &st, kind, mode).map_err(os(format!("keep the owner of {}", what())))
}

fn copy_file(src: BorrowedFd, dst: BorrowedFd, name: &CStr) -> Result<()> {
    let what = || name.to_string_lossy().into_owned();
    let r = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let w = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let from =
        nix::fcntl::openat(src, name, r, Mode::empty()).map_err(os(format!("open {}", what())))?;
    let to = nix::fcntl::openat(dst, name, w, Mode::from_bits_truncate(0o600))
        .map_err(os(format!("create {}", what())))?;
    let (mut from, mut to) = (std::fs::File::from(from), std::fs::File::from(to));
    std::io::copy(&mut from, &mut to)
        .map_err(|e| Error::io(format!("tmpcopyup: copy {}", what()), e))?;
    Ok(())
}

/// Owner first (chown clears set-id bits), then the mode, then the times.
fn set_attrs(
    dst: BorrowedFd,
    name: &CStr,
    st: &FileStat,
    kind: SFlag,
    mode: Mode,
) -> nix::Result<()> {
    let (uid, gid) = (
        Some(Uid::from_raw(st.st_uid)),
        Some(Gid::from_raw(st.st_gid)),
    );
    fchownat(dst, name, uid, gid, AtFlags::AT_SYMLINK_NOFOLLOW)?;
    if kind != SFlag::S_IFLNK {
        fchmodat(dst, name, mode, FchmodatFlags::FollowSymlink)?;
    }
    let atime = TimeSpec::new(st.st_atime, st.st_atime_nsec);
    let mtime = TimeSpec::new(st.st_mtime, st.st_mtime_nsec);
    utimensat(dst, name, &atime, &mtime, UtimensatFlags::NoFollowSymlink)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};

    #[test]
    fn copies_files_dirs_links_and_fifos_without_following_links() {
        let d = std::env::temp_dir().join(format!("rune-copyup-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let (from, to) = (d.join("from"), d.join("to"));
        std::fs::create_dir_all(from.join("a/b")).unwrap();
        std::fs::create_dir_all(&to).unwrap();
        std::fs::write(from.join("a/b/f"), "data").unwrap();
        std::fs::set_permissions(from.join("a/b/f"), std::fs::Permissions::from_mode(0o4751))
            .unwrap();
        // Another owner needs root; without it the test's own ids must be kept.
        let (uid, gid) = match crate::sys::euid() {
            0 => (7, 8),
            me => (me, nix::unistd::getegid().as_raw()),
        };
        std::os::unix::fs::chown(from.join("a"), Some(uid), Some(gid)).unwrap();
        std::os::unix::fs::symlink("/nonexistent/x", from.join("dangling")).unwrap();
        nix::unistd::mkfifo(&from.join("fifo"), Mode::from_bits_truncate(0o640)).unwrap();
        let open = |p: &std::path::Path| OwnedFd::from(std::fs::File::open(p).unwrap());
        copy_dir(&open(&from), &open(&to)).unwrap();
        assert_eq!(std::fs::read_to_string(to.join("a/b/f")).unwrap(), "data");
        let f = std::fs::metadata(to.join("a/b/f")).unwrap();
        assert_eq!(f.mode() & 0o7777, 0o4751);
        let a = std::fs::metadata(to.join("a")).unwrap();
        assert_eq!((a.uid(), a.gid(), a.mode() & 0o777), (uid, gid, 0o755));
        let link = std::fs::read_link(to.join("dangling")).unwrap();
        assert_eq!(link, std::path::Path::new("/nonexistent/x"));
        let fifo = std::fs::symlink_metadata(to.join("fifo")).unwrap();
        assert!(fifo.file_type().is_fifo());
        assert_eq!(fifo.mode() & 0o777, 0o640);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
