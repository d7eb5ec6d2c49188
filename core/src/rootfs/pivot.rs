//! Entering the root: pivot_root (the default), or MS_MOVE + chroot for `--no-pivot`.

use crate::error::{Context, Error, Result};
use crate::sys;
use std::os::fd::AsRawFd;
use std::path::Path;

pub fn enter(rootfs: &Path, no_pivot: bool) -> Result<()> {
    if no_pivot {
        move_root(rootfs)
    } else {
        pivot_root(rootfs)
    }
}

fn pivot_root(rootfs: &Path) -> Result<()> {
    let old = std::fs::File::open("/").context("open /")?;
    let new = std::fs::File::open(rootfs).with_context(|| format!("open {}", rootfs.display()))?;
    nix::unistd::fchdir(&new).context("chdir to the rootfs")?;
    // pivot_root(".", ".") stacks the old root on top of the new one; detach it at once.
    let dot = c".";
    // SAFETY: two valid NUL-terminated paths.
    if unsafe { libc::syscall(libc::SYS_pivot_root, dot.as_ptr(), dot.as_ptr()) } != 0 {
        return Err(Error::io(
            format!("pivot_root into {}", rootfs.display()),
            std::io::Error::last_os_error(),
        ));
    }
    nix::unistd::fchdir(&old).context("chdir to the old root")?;
    sys::mount(
        None,
        Path::new("."),
        None,
        libc::MS_SLAVE | libc::MS_REC,
        None,
        &|| "make the old root a slave".into(),
    )?;
    nix::mount::umount2(".", nix::mount::MntFlags::MNT_DETACH).context("unmount the old root")?;
    drop(old);
    let _ = new.as_raw_fd();
    nix::unistd::chdir("/").context("chdir /")
}

fn move_root(rootfs: &Path) -> Result<()> {
    nix::unistd::chdir(rootfs).with_context(|| format!("chdir {}", rootfs.display()))?;
    sys::mount(
        Some(rootfs),
        Path::new("/"),
        None,
        libc::MS_MOVE,
        None,
        &|| "move the rootfs to /".into(),
    )?;
    nix::unistd::chroot(".").context("chroot into the rootfs")?;
    nix::unistd::chdir("/").context("chdir /")
}
