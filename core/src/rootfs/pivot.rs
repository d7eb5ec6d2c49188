//! Entering the root: pivot_root (the default), or MS_MOVE + chroot for `--no-pivot`.

use crate::error::{Context, Result};
use crate::sys::syscall::Syscall;
use std::os::fd::AsFd;
use std::path::Path;

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

fn move_root(os: &dyn Syscall, rootfs: &Path) -> Result<()> {
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
    fn no_pivot_moves_the_rootfs_and_chroots() {
        let fake = Fake::new();
        let root = rootfs();
        enter(&fake, &root, true).unwrap();
        assert_eq!(
            fake.calls(),
            [
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
