//! Entering the root: pivot_root (the default), or MS_MOVE + chroot for `--no-pivot`.

use crate::error::{Context, Result};
use crate::sys::syscall::Syscall;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

pub fn enter(os: &dyn Syscall, rootfs: &Path, no_pivot: bool) -> Result<()> {
    if no_pivot {
        move_root(os, rootfs)
    } else {
        pivot_root(os, rootfs)
    }
}

fn pivot_root(os: &dyn Syscall, rootfs: &Path) -> Result<()> {
    let old = std::fs::File::open("/").context("open /")?;
    let new = std::fs::File::open(rootfs).with_context(|| format!("open {}", rootfs.display()))?;
    os.fchdir(new.as_fd(), &|| "chdir to the rootfs".into())?;
    // pivot_root(".", ".") stacks the old root on top of the new one; detach it at once.
    let dot = Path::new(".");
    os.pivot_root(dot, dot, &|| {
        format!("pivot_root into {}", rootfs.display())
    })?;
    os.fchdir(old.as_fd(), &|| "chdir to the old root".into())?;
    os.mount(
        None,
        dot,
        None,
        libc::MS_SLAVE | libc::MS_REC,
        None,
        &|| "make the old root a slave".into(),
    )?;
    os.umount2(dot, libc::MNT_DETACH, &|| "unmount the old root".into())?;
    drop(old);
    drop(new);
    os.chdir(Path::new("/"), &|| "chdir /".into())
}

/// The full proc and sysfs mounts outside the rootfs, from a mountinfo text: with chroot (not
/// pivot_root) they stay in the container's mount namespace, and while one is there the
/// kernel lets the container mount a new, unmasked proc or sysfs (it allows such a mount only
/// where a full, uncovered one is already visible).
fn full_proc_and_sys(mountinfo: &str, rootfs: &Path) -> Vec<PathBuf> {
    crate::mountinfo::parse(mountinfo)
        .into_iter()
        .filter(|e| {
            e.root == Path::new("/")
                && matches!(e.fstype.as_str(), "proc" | "sysfs")
                && !e.mount_point.starts_with(rootfs)
        })
        .map(|e| e.mount_point)
        .collect()
}

/// `--no-pivot`: every full proc and sysfs mount outside the rootfs is detached first (covered
/// with a tmpfs where it cannot be), as runc does, then the rootfs moves onto / and is
/// chrooted into.
fn move_root(os: &dyn Syscall, rootfs: &Path) -> Result<()> {
    for mp in full_proc_and_sys(&os.mountinfo()?, rootfs) {
        let what = || format!("hide {} from the container", mp.display());
        // The unmount must not reach the host's namespace: an unmount propagates to the peers
        // of the mount's parent (/ is shared with the host's with rootfsPropagation rshared),
        // so the parent becomes a slave first, and the mount itself too.
        let parent = mp.parent().unwrap_or(Path::new("/"));
        let mut gone = false;
        for (at, flags) in [
            (parent, libc::MS_SLAVE),
            (&mp, libc::MS_SLAVE | libc::MS_REC),
        ] {
            match os.mount(None, at, None, flags, None, &what) {
                // Under a mount detached before it.
                Err(e) if e.errno() == Some(libc::ENOENT) => gone = true,
                r => r?,
            }
        }
        if gone {
            continue;
        }
        match os.umount2(&mp, libc::MNT_DETACH, &what) {
            Err(e) if matches!(e.errno(), Some(libc::EINVAL | libc::EPERM)) => {
                os.mount(Some(Path::new("tmpfs")), &mp, Some("tmpfs"), 0, None, &what)?
            }
            r => r?,
        }
    }
    os.chdir(rootfs, &|| format!("chdir {}", rootfs.display()))?;
    os.mount(
        Some(rootfs),
        Path::new("/"),
        None,
        libc::MS_MOVE,
        None,
        &|| "move the rootfs to /".into(),
    )?;
    os.chroot(Path::new("."), &|| "chroot into the rootfs".into())?;
    os.chdir(Path::new("/"), &|| "chdir /".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::syscall::{Call, Fake};
    use std::path::PathBuf;

    fn rootfs() -> PathBuf {
        std::env::temp_dir().canonicalize().unwrap()
    }

    #[test]
    fn pivot_root_stacks_the_old_root_and_detaches_it() {
        let fake = Fake::new();
        let root = rootfs();
        enter(&fake, &root, false).unwrap();
        let dot = PathBuf::from(".");
        assert_eq!(
            fake.calls(),
            [
                Call::Fchdir(root.clone()),
                Call::PivotRoot {
                    new_root: dot.clone(),
                    put_old: dot.clone()
                },
                Call::Fchdir(PathBuf::from("/")),
                Call::mount(None, &dot, None, libc::MS_SLAVE | libc::MS_REC, None),
                Call::Umount2 {
                    target: dot,
                    flags: libc::MNT_DETACH
                },
                Call::Chdir(PathBuf::from("/")),
            ]
        );
    }

    #[test]
    fn no_pivot_hides_full_proc_and_sys_then_moves_the_rootfs_and_chroots() {
        let root = rootfs();
        let info = format!(
            "20 1 0:5 / /proc rw - proc proc rw\n\
             21 20 0:6 / /proc/sys/fs/binfmt_misc rw - binfmt_misc b rw\n\
             22 1 0:7 / /sys rw - sysfs sysfs rw\n\
             23 1 0:5 /sys /mnt/procsys rw - proc proc rw\n\
             24 1 0:8 / {}/proc rw - proc proc rw\n",
            root.display()
        );
        let fake = Fake::new().mountinfo_is(&info);
        enter(&fake, &root, true).unwrap();
        let slave = libc::MS_SLAVE | libc::MS_REC;
        let detach = |p: &str| Call::Umount2 {
            target: PathBuf::from(p),
            flags: libc::MNT_DETACH,
        };
        assert_eq!(
            fake.calls(),
            [
                Call::Mountinfo,
                Call::mount(None, Path::new("/"), None, libc::MS_SLAVE, None),
                Call::mount(None, Path::new("/proc"), None, slave, None),
                detach("/proc"),
                Call::mount(None, Path::new("/"), None, libc::MS_SLAVE, None),
                Call::mount(None, Path::new("/sys"), None, slave, None),
                detach("/sys"),
                Call::Chdir(root.clone()),
                Call::mount(Some(&root), Path::new("/"), None, libc::MS_MOVE, None),
                Call::Chroot(PathBuf::from(".")),
                Call::Chdir(PathBuf::from("/")),
            ]
        );
    }

    #[test]
    fn a_failed_pivot_root_names_the_rootfs_and_leaves_the_old_root_alone() {
        let fake = Fake::new().fail(|c| matches!(c, Call::PivotRoot { .. }), libc::EINVAL);
        let root = rootfs();
        let e = enter(&fake, &root, false).unwrap_err();
        assert_eq!(e.errno(), Some(libc::EINVAL));
        assert!(
            e.message()
                .starts_with(&format!("pivot_root into {}: ", root.display())),
            "{}",
            e.message()
        );
        // Nothing after the failed call: no unmount of what would still be the host's root.
        assert!(matches!(fake.calls().last(), Some(Call::PivotRoot { .. })));
        assert_eq!(fake.calls().len(), 2);
    }
}
