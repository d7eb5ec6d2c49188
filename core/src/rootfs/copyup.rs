//! `tmpcopyup`: a tmpfs mounted over a directory starts with a copy of what the directory
//! held (an extension of runc's and crun's; Podman asks for it on `--tmpfs`). Copied by
//! descriptor, from the directory underneath the new mount (the fd opened before the mount
//! still names it) into the mount: every step is an *at call with AT_SYMLINK_NOFOLLOW or
//! O_NOFOLLOW, so a symlink in the rootfs is copied as a symlink and never followed.
//! Owners, modes, device numbers and times are kept; hard links become separate files and
//! extended attributes are not copied.

use crate::error::{Error, Result};
use crate::sys;
use crate::sys::at::{self, Dir};
use std::ffi::CStr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

/// Copies the contents of the directory `from` into the directory `to` (O_PATH fds will do).
pub fn copy_dir(from: &OwnedFd, to: &OwnedFd) -> Result<()> {
    let src = open_dir(from.as_fd(), c".")?;
    let dst = open_dir(to.as_fd(), c".")?;
    copy_entries(src, dst.as_fd(), 0)
}

fn os(what: String) -> impl FnOnce(std::io::Error) -> Error {
    move |e| Error::io(format!("tmpcopyup: {}", what), e)
}

fn open_dir(at: BorrowedFd, name: &CStr) -> Result<OwnedFd> {
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    at::openat(at, name, flags, 0).map_err(os(format!("open {}", name.to_string_lossy())))
}

fn copy_entries(src: OwnedFd, dst: BorrowedFd, depth: u32) -> Result<()> {
    if depth > 256 {
        return Err(crate::err!(
            Internal,
            "tmpcopyup: directories nested too deep"
        ));
    }
    let mut dir = Dir::from_fd(src).map_err(os("read directory".into()))?;
    for name in dir.names() {
        copy_one(dir.as_fd(), dst, &name, depth)?;
    }
    Ok(())
}

fn copy_one(src: BorrowedFd, dst: BorrowedFd, name: &CStr, depth: u32) -> Result<()> {
    let what = || name.to_string_lossy().into_owned();
    let st = at::lstat_at(src, name).map_err(os(format!("stat {}", what())))?;
    let kind = st.st_mode & libc::S_IFMT;
    let mode = st.st_mode & 0o7777;
    match kind {
        libc::S_IFDIR => {
            sys::at::mkdirat(dst.as_raw_fd(), name, 0o700)
                .map_err(os(format!("mkdir {}", what())))?;
            let (s, d) = (open_dir(src, name)?, open_dir(dst, name)?);
            copy_entries(s, d.as_fd(), depth + 1)?;
        }
        libc::S_IFREG => copy_file(src, dst, name)?,
        libc::S_IFLNK => {
            let target = at::read_link_at(src, name).map_err(os(format!("readlink {}", what())))?;
            sys::at::symlinkat(&sys::cstr(target.as_ref())?, dst.as_raw_fd(), name)
                .map_err(os(format!("symlink {}", what())))?;
        }
        _ => sys::at::mknodat(dst.as_raw_fd(), name, kind, mode, st.st_rdev)
            .map_err(os(format!("mknod {}", what())))?,
    }
    set_attrs(dst, name, &st, kind, mode).map_err(os(format!("keep the owner of {}", what())))
}

fn copy_file(src: BorrowedFd, dst: BorrowedFd, name: &CStr) -> Result<()> {
    let what = || name.to_string_lossy().into_owned();
    let r = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    let w = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    let from = at::openat(src, name, r, 0).map_err(os(format!("open {}", what())))?;
    let to = at::openat(dst, name, w, 0o600).map_err(os(format!("create {}", what())))?;
    let (mut from, mut to) = (std::fs::File::from(from), std::fs::File::from(to));
    std::io::copy(&mut from, &mut to)
        .map_err(|e| Error::io(format!("tmpcopyup: copy {}", what()), e))?;
    Ok(())
}

/// Owner first (chown clears set-id bits), then the mode, then the times.
fn set_attrs(
    dst: BorrowedFd,
    name: &CStr,
    st: &libc::stat,
    kind: libc::mode_t,
    mode: libc::mode_t,
) -> std::io::Result<()> {
    at::lchown_at(dst, name, st.st_uid, st.st_gid)?;
    if kind != libc::S_IFLNK {
        at::chmod_at(dst, name, mode)?;
    }
    let atime = libc::timespec {
        tv_sec: st.st_atime,
        tv_nsec: st.st_atime_nsec,
    };
    let mtime = libc::timespec {
        tv_sec: st.st_mtime,
        tv_nsec: st.st_mtime_nsec,
    };
    at::set_times_at(dst, name, atime, mtime)
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
            me => (me, crate::sys::user::egid()),
        };
        std::os::unix::fs::chown(from.join("a"), Some(uid), Some(gid)).unwrap();
        std::os::unix::fs::symlink("/nonexistent/x", from.join("dangling")).unwrap();
        let fifo = crate::sys::cstr(&from.join("fifo")).unwrap();
        crate::sys::at::mknodat(libc::AT_FDCWD, &fifo, libc::S_IFIFO, 0o640, 0).unwrap();
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
