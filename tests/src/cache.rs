//! The tests' cache on the host, at a path every user can walk (`/var/cache/rune-tests`,
//! 0755 down from `/`): a checkout may lie under a directory only root may enter (`/root` is
//! 0700), while a container's root in a user namespace, and the plain test user, must reach the
//! shared rootfs and the binary under test. Entries are stamped and made under a lock, so test
//! binaries running at once, and checkouts at other paths, share them safely.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const CACHE: &str = "/var/cache/rune-tests";

/// The cache directory, made 0755 whatever the umask.
pub fn dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = PathBuf::from(CACHE);
        fs::create_dir_all(&d).unwrap_or_else(|e| panic!("create {d:?}: {e}"));
        open_up(&d);
        d
    })
}

/// Sets `p` to 0755 (a directory others may walk).
pub fn open_up(p: &Path) {
    fs::set_permissions(p, fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("chmod 0755 {p:?}: {e}"));
}

/// An exclusive lock on `<cache>/<name>.lock`, held until the file is dropped.
pub fn lock(name: &str) -> fs::File {
    let path = dir().join(format!("{name}.lock"));
    let f = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("open {path:?}: {e}"));
    // SAFETY: flock on an fd we own; released when the file is closed.
    assert_eq!(
        unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) },
        0,
        "flock {path:?}"
    );
    f
}

/// The binary under test ([`crate::rune_bin`]) at a path the plain test user can walk and
/// execute: a hard link (a copy across file systems) in the cache, named for the binary's
/// path, size and mtime, so a rebuilt binary gets a new entry and replaces the old one.
pub fn user_rune_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let src = fs::canonicalize(crate::rune_bin()).expect("the binary under test");
        let meta = fs::metadata(&src).expect("stat the binary under test");
        let tag = format!("{:016x}", fnv(src.as_os_str().as_encoded_bytes()));
        let key = format!("bin-{tag}-{}-{}", meta.len(), {
            use std::os::unix::fs::MetadataExt;
            meta.mtime_nsec() as i128 + meta.mtime() as i128 * 1_000_000_000
        });
        let _lock = lock("bin");
        let entry = dir().join(&key);
        let bin = entry.join("rune");
        if !bin.is_file() {
            // Older entries of the same binary path go.
            for old in fs::read_dir(dir()).unwrap().flatten() {
                let name = old.file_name().to_string_lossy().into_owned();
                if name.starts_with(&format!("bin-{tag}-")) {
                    let _ = fs::remove_dir_all(old.path());
                }
            }
            let tmp = dir().join(format!("{key}.tmp-{}", std::process::id()));
            let _ = fs::remove_dir_all(&tmp);
            fs::create_dir(&tmp).unwrap();
            open_up(&tmp);
            if fs::hard_link(&src, tmp.join("rune")).is_err() {
                fs::copy(&src, tmp.join("rune")).expect("copy the binary under test");
            }
            fs::rename(&tmp, &entry).expect("move the binary's entry into place");
        }
        bin
    })
}

/// FNV-1a: a stable name for a path (std's hasher is not promised stable across builds).
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}
