//! Making paths below the container's root by descriptor, never by a resolved path string: each
//! step is opened with openat2(RESOLVE_IN_ROOT) from the root's fd and each new entry is made
//! with an *at call on its parent's fd, so a symlink swapped in while rune works can only lead
//! somewhere else inside the root, never to the host (CVE-2024-45310 and its kin).

use crate::error::{Error, Result};
use crate::sys;
use std::ffi::{CString, OsStr, OsString};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// The normal components of `path`, `..` taken lexically and clamped at the root (symlinks
/// along the way are still resolved, inside the root, by each open).
fn parts(path: &Path) -> Vec<OsString> {
    let mut out = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(s) => out.push(s.to_os_string()),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

fn cname(name: &OsStr) -> Result<CString> {
    CString::new(name.as_bytes())
        .map_err(|_| crate::err!(InvalidSpec, "path {:?} contains NUL", name))
}

/// Opens the directory `path` below `root`, making every missing directory on the way
/// (mode 0755); returns an O_PATH descriptor of it.
pub fn mkdir_all(root: RawFd, path: &Path) -> Result<OwnedFd> {
    mkdir_all_links(root, path, 0)
}

fn mkdir_all_links(root: RawFd, path: &Path, links: u32) -> Result<OwnedFd> {
    // Most paths exist already (the rootfs has them): one openat2, no walk.
    if let Ok(fd) = sys::open_in_root(root, path, libc::O_DIRECTORY) {
        return Ok(fd);
    }
    let mut done = PathBuf::from("/");
    let mut cur = sys::open_in_root(root, &done, libc::O_DIRECTORY)?;
    let all = parts(path);
    for (i, p) in all.iter().enumerate() {
        done.push(p);
        match sys::open_in_root(root, &done, libc::O_DIRECTORY) {
            Ok(fd) => cur = fd,
            Err(e) if e.errno() == Some(libc::ENOENT) => {
                let c = cname(p)?;
                if let Err(err) = sys::at::mkdirat(cur.as_raw_fd(), &c, 0o755) {
                    if err.raw_os_error() != Some(libc::EEXIST) {
                        return Err(Error::io(
                            format!("create directory {}", done.display()),
                            err,
                        ));
                    }
                    // A dangling symlink: make its target instead, still inside the root.
                    if let Some(target) = sys::at::readlinkat(cur.as_raw_fd(), &c) {
                        if links >= 40 {
                            return Err(crate::err!(
                                InvalidSpec,
                                "too many symlinks under {}",
                                path.display()
                            ));
                        }
                        let base = done.parent().unwrap_or(Path::new("/"));
                        let mut next = base.join(target);
                        next.extend(&all[i + 1..]);
                        return mkdir_all_links(root, &next, links + 1);
                    }
                }
                cur = sys::open_in_root(root, &done, libc::O_DIRECTORY)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(cur)
}

/// The parent of `path` (made as needed) and the last name, for an *at call.
pub fn parent_of(root: RawFd, path: &Path) -> Result<(OwnedFd, CString)> {
    let mut ps = parts(path);
    let name = match ps.pop() {
        Some(n) => n,
        None => {
            return Err(crate::err!(
                InvalidSpec,
                "{} does not name a file",
                path.display()
            ))
        }
    };
    let parent: PathBuf = ps.iter().collect();
    Ok((mkdir_all(root, &parent)?, cname(&name)?))
}

/// The directory `path` below `root` (made when missing) for a procfs or sysfs mount, refused
/// unless it is an ordinary directory: a symlink at /proc or /sys would move the mount, and
/// the masked paths and AppArmor rules written for it, somewhere else (CVE-2023-27561; runc
/// refuses it too). Looked at by descriptor with O_NOFOLLOW, and the descriptor checked is
/// the one returned to mount on.
pub fn ordinary_dir(root: RawFd, path: &Path, fstype: &str) -> Result<OwnedFd> {
    let clean: PathBuf = std::iter::once(OsString::from("/"))
        .chain(parts(path))
        .collect();
    let look = || -> Result<Option<OwnedFd>> {
        let fd = match sys::open_in_root(root, &clean, libc::O_NOFOLLOW) {
            Ok(fd) => fd,
            Err(e) if e.errno() == Some(libc::ENOENT) => return Ok(None),
            Err(e) => return Err(e),
        };
        let st = sys::at::fstat(fd.as_fd())
            .map_err(|e| Error::io(format!("stat {}", path.display()), e))?;
        if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
            return Err(crate::err!(
                InvalidSpec,
                "filesystem {:?} must be mounted on ordinary directory",
                fstype
            ));
        }
        Ok(Some(fd))
    };
    if let Some(fd) = look()? {
        return Ok(fd);
    }
    mkdir_all(root, &clean)?;
    look()?.ok_or_else(|| Error::os(format!("open {}", path.display()), libc::ENOENT))
}

/// Makes an empty regular file at `path` below `root` unless something is there already.
pub fn create_file(root: RawFd, path: &Path) -> Result<()> {
    let (dir, name) = parent_of(root, path)?;
    match sys::at::create_excl_at(dir.as_raw_fd(), &name, 0o644) {
        Err(e) if e.raw_os_error() != Some(libc::EEXIST) => {
            Err(Error::io(format!("create {}", path.display()), e))
        }
        _ => Ok(()),
    }
}

/// Removes whatever non-directory is at `path` below `root` (a missing one is no error).
pub fn unlink(root: RawFd, path: &Path) -> Result<()> {
    let (dir, name) = parent_of(root, path)?;
    match sys::at::unlinkat(dir.as_raw_fd(), &name) {
        Err(e) if e.raw_os_error() != Some(libc::ENOENT) => {
            Err(Error::io(format!("remove {}", path.display()), e))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rune-inroot-{}-{}", name, std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("root")).unwrap();
        d
    }

    #[test]
    fn a_symlink_to_the_host_stays_inside_the_root() {
        let d = tmp("link");
        let root = d.join("root");
        let outside = d.join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        // An absolute link and a relative one climbing out: both resolve inside the root.
        std::os::unix::fs::symlink(&outside, root.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../outside", root.join("rel")).unwrap();
        let rfd = std::fs::File::open(&root).unwrap();
        mkdir_all(rfd.as_raw_fd(), Path::new("/abs/made")).unwrap();
        mkdir_all(rfd.as_raw_fd(), Path::new("/rel/made2")).unwrap();
        create_file(rfd.as_raw_fd(), Path::new("/abs/file")).unwrap();
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        assert!(root
            .join(outside.strip_prefix("/").unwrap())
            .join("made")
            .is_dir());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn procfs_goes_only_on_an_ordinary_directory() {
        let d = tmp("ordinary");
        let root = d.join("root");
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        std::os::unix::fs::symlink("/tmp/x", root.join("proc")).unwrap();
        std::os::unix::fs::symlink("tmp", root.join("sys")).unwrap();
        std::fs::write(root.join("file"), "").unwrap();
        let rfd = std::fs::File::open(&root).unwrap();
        for (p, t) in [("/proc", "proc"), ("/sys/", "sysfs"), ("/file", "proc")] {
            let e = ordinary_dir(rfd.as_raw_fd(), Path::new(p), t).unwrap_err();
            let want = format!("filesystem \"{t}\" must be mounted on ordinary directory");
            assert_eq!(e.message(), want, "{p}");
        }
        // Nothing was made through the dangling link.
        assert!(!root.join("tmp/x").exists());
        // A missing directory is made; a real one is taken as it is.
        ordinary_dir(rfd.as_raw_fd(), Path::new("/a/proc"), "proc").unwrap();
        assert!(root.join("a/proc").is_dir());
        ordinary_dir(rfd.as_raw_fd(), Path::new("/tmp"), "sysfs").unwrap();
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn dotdot_is_clamped_at_the_root() {
        let d = tmp("dotdot");
        let root = d.join("root");
        let rfd = std::fs::File::open(&root).unwrap();
        mkdir_all(rfd.as_raw_fd(), Path::new("/../../x/y")).unwrap();
        assert!(root.join("x/y").is_dir());
        assert!(!d.join("x").exists());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
