//! Files rune makes on the host (state, pid files, logs, config templates), each with an
//! explicit mode: the mode is set with fchmod after the open, so the caller's umask (000 or
//! 077 alike) never decides who may read or write them.

use crate::error::{Context, Result};
use std::fs::{File, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Opens `path` for writing, created or truncated, with exactly `mode`; a symlink in its
/// place is refused (O_NOFOLLOW), so the write cannot be redirected.
pub fn create(path: &Path, mode: u32) -> Result<File> {
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .with_context(|| format!("create {}", path.display()))?;
    f.set_permissions(Permissions::from_mode(mode))
        .with_context(|| format!("chmod {}", path.display()))?;
    Ok(f)
}

/// Writes `data` to `path` through a temporary file beside it and `rename`, so readers never
/// see half of it; the file has exactly `mode`.
pub fn write_atomic(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{}.tmp", name));
    let mut f = create(&tmp, mode)?;
    f.write_all(data)
        .with_context(|| format!("write {}", tmp.display()))?;
    drop(f);
    std::fs::rename(&tmp, path).with_context(|| format!("rename {}", tmp.display()))
}

/// Opens `path` for appending; a file made here gets exactly `mode`, one that exists keeps its.
pub fn append(path: &Path, mode: u32) -> Result<File> {
    let open = |create_new: bool| {
        OpenOptions::new()
            .append(true)
            .create_new(create_new)
            .mode(mode)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)
    };
    match open(true) {
        Ok(f) => {
            f.set_permissions(Permissions::from_mode(mode))
                .with_context(|| format!("chmod {}", path.display()))?;
            Ok(f)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            open(false).with_context(|| format!("open {}", path.display()))
        }
        Err(e) => Err(crate::Error::io(format!("create {}", path.display()), e)),
    }
}

/// Sets exactly `mode` on an existing path (a directory, a fifo or a socket rune made).
pub fn chmod(path: &Path, mode: u32) -> Result<()> {
    std::fs::set_permissions(path, Permissions::from_mode(mode))
        .with_context(|| format!("chmod {}", path.display()))
}

/// Writes the pid file atomically, as runc does.
pub fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().context("cwd")?.join(path)
    };
    // 0644 as runc's, but explicit: not the caller's umask.
    write_atomic(&path, pid.to_string().as_bytes(), 0o644)
        .map_err(|e| crate::err!(Os, "write pid file: {}", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn with_umask<T>(mask: libc::mode_t, f: impl FnOnce() -> T) -> T {
        use crate::sys::session::replace_umask;
        // The tests of this module are the only callers.
        let old = replace_umask(mask);
        let r = f();
        replace_umask(old);
        r
    }

    #[test]
    fn modes_do_not_follow_the_umask() {
        let d = tempfile_dir();
        for mask in [0o000, 0o077, 0o022] {
            let p = d.join(format!("f{mask:o}"));
            with_umask(mask, || write_atomic(&p, b"x", 0o600)).unwrap();
            assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o7777, 0o600);
            let l = d.join(format!("l{mask:o}"));
            with_umask(mask, || append(&l, 0o644)).unwrap();
            assert_eq!(std::fs::metadata(&l).unwrap().mode() & 0o7777, 0o644);
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn create_refuses_a_symlink() {
        let d = tempfile_dir();
        let target = d.join("target");
        std::fs::write(&target, b"keep").unwrap();
        std::os::unix::fs::symlink(&target, d.join("link")).unwrap();
        assert!(create(&d.join("link"), 0o600).is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
        std::fs::remove_dir_all(&d).unwrap();
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!(
            "rune-files-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
