//! The shared busybox root filesystem, built once per test process.
//!
//! It lives in the tests' cache ([`crate::cache`]), where a container's root in a user
//! namespace can reach it whatever the checkout's path; concurrent test binaries serialize on
//! a lock and the finished tree is moved into place with an atomic rename, so nobody ever sees
//! half a rootfs.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const BUSYBOX: &str = "/bin/busybox";
/// Bump when the layout below changes so stale caches are rebuilt.
const STAMP: &str = "rune-rootfs-v2";
const STAMP_FILE: &str = ".rune-rootfs-stamp";

/// Directories created in the rootfs. Besides the usual top-level ones,
/// `mnt/a`..`mnt/d` are mount points for tests (the rootfs is shared and
/// mounted read-only, so tests must not need the runtime to create them).
const DIRS: &[&str] = &[
    "bin",
    "dev",
    "etc",
    "home",
    "home/test",
    "mnt",
    "mnt/a",
    "mnt/b",
    "mnt/c",
    "mnt/d",
    "opt",
    "proc",
    "root",
    "run",
    "sbin",
    "sys",
    "tmp",
    "usr",
    "usr/bin",
    "var",
    "var/tmp",
];

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
test:x:1000:1000:test user:/home/test:/bin/sh\n\
nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";

const GROUP: &str = "root:x:0:\n\
tty:x:5:\n\
test:x:1000:\n\
extra:x:1001:test\n\
extra2:x:1002:\n\
nogroup:x:65534:\n";

/// Path of the shared busybox rootfs, building it on first use.
pub fn rootfs() -> &'static Path {
    static ROOTFS: OnceLock<PathBuf> = OnceLock::new();
    ROOTFS.get_or_init(|| {
        let cache = crate::cache::dir();
        build_locked(cache).unwrap_or_else(|e| panic!("building the test rootfs in {cache:?}: {e}"))
    })
}

fn build_locked(cache: &Path) -> std::io::Result<PathBuf> {
    if !Path::new(BUSYBOX).is_file() {
        panic!(
            "{BUSYBOX} is missing: the integration tests need a static busybox \
             (run `apt-get install busybox-static`)"
        );
    }
    let lock = crate::cache::lock("rootfs");
    let dest = cache.join("rootfs");
    let current = fs::read_to_string(dest.join(STAMP_FILE)).unwrap_or_default();
    if current.trim() != STAMP {
        let tmp = cache.join(format!("rootfs.tmp-{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        build(&tmp)?;
        if dest.exists() {
            let old = cache.join(format!("rootfs.old-{}", std::process::id()));
            fs::rename(&dest, &old)?;
            let _ = fs::remove_dir_all(&old);
        }
        fs::rename(&tmp, &dest)?;
    }
    drop(lock);
    Ok(dest)
}

fn build(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755))?;
    for d in DIRS {
        fs::create_dir_all(dir.join(d))?;
        fs::set_permissions(dir.join(d), fs::Permissions::from_mode(0o755))?;
    }
    for d in ["tmp", "var/tmp"] {
        fs::set_permissions(dir.join(d), fs::Permissions::from_mode(0o1777))?;
    }
    let bb = dir.join("bin/busybox");
    fs::copy(BUSYBOX, &bb)?;
    fs::set_permissions(&bb, fs::Permissions::from_mode(0o755))?;
    let list = Command::new(BUSYBOX).arg("--list").output()?;
    if !list.status.success() {
        return Err(std::io::Error::other("`busybox --list` failed"));
    }
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        let applet = applet.trim();
        // `busybox` itself is in the list: linking it would clobber the binary.
        if applet.is_empty() || applet == "busybox" || applet.contains('/') {
            continue;
        }
        symlink("busybox", dir.join("bin").join(applet))?;
    }
    symlink("../bin/busybox", dir.join("sbin/init"))?;
    fs::write(dir.join("etc/passwd"), PASSWD)?;
    fs::write(dir.join("etc/group"), GROUP)?;
    fs::write(dir.join("etc/hosts"), "127.0.0.1 localhost\n")?;
    fs::write(dir.join("etc/hostname"), "rune-test\n")?;
    fs::write(dir.join("etc/resolv.conf"), "")?;
    fs::write(dir.join("etc/motd"), "rune integration rootfs\n")?;
    fs::write(dir.join(STAMP_FILE), STAMP)?;
    // Readable by every uid a container runs as, whatever the umask.
    for f in fs::read_dir(dir.join("etc"))? {
        fs::set_permissions(f?.path(), fs::Permissions::from_mode(0o644))?;
    }
    Ok(())
}

/// A private, writable copy of the shared rootfs at `dest` (for tests that change it).
pub fn rootfs_copy(dest: &Path) {
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(rootfs())
        .arg(dest)
        .status()
        .expect("run cp");
    assert!(status.success(), "cp -a {:?} {dest:?} failed", rootfs());
}
