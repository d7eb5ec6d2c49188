//! /dev inside the container: the default devices of config-linux.md, `linux.devices`, the
//! standard symlinks and /dev/ptmx.

use crate::error::{Context, Error, Result};
use crate::sys;
use oci_spec::runtime::{LinuxDeviceType, Spec};
use std::path::{Path, PathBuf};

struct Dev {
    path: PathBuf,
    kind: libc::mode_t,
    major: u64,
    minor: u64,
    mode: u32,
    uid: u32,
    gid: u32,
}

fn defaults() -> Vec<Dev> {
    [
        ("null", 1, 3),
        ("zero", 1, 5),
        ("full", 1, 7),
        ("random", 1, 8),
        ("urandom", 1, 9),
        ("tty", 5, 0),
    ]
    .iter()
    .map(|(n, ma, mi)| Dev {
        path: PathBuf::from("/dev").join(n),
        kind: libc::S_IFCHR,
        major: *ma,
        minor: *mi,
        mode: 0o666,
        uid: 0,
        gid: 0,
    })
    .collect()
}

/// True when /dev is not a bind mount from the host: then rune populates it.
fn needs_dev(spec: &Spec) -> bool {
    !spec.mounts().iter().flatten().any(|m| {
        m.destination() == Path::new("/dev")
            && (m.typ().as_deref() == Some("bind")
                || m.options()
                    .iter()
                    .flatten()
                    .any(|o| o == "bind" || o == "rbind"))
    })
}

/// Creates the devices and links under `<rootfs>/dev`. In a user namespace, where mknod is not
/// allowed, the host's nodes are bind-mounted instead.
pub fn setup_dev(spec: &Spec, rootfs: &Path, in_userns: bool) -> Result<()> {
    let configured: Vec<Dev> = spec
        .linux()
        .as_ref()
        .and_then(|l| l.devices().as_ref())
        .into_iter()
        .flatten()
        .map(|d| Dev {
            path: d.path().clone(),
            kind: match d.typ() {
                LinuxDeviceType::B => libc::S_IFBLK,
                LinuxDeviceType::P => libc::S_IFIFO,
                _ => libc::S_IFCHR,
            },
            major: d.major() as u64,
            minor: d.minor() as u64,
            mode: d.file_mode().unwrap_or(0o666),
            uid: d.uid().unwrap_or(0),
            gid: d.gid().unwrap_or(0),
        })
        .collect();
    let populate = needs_dev(spec);
    let mut all = if populate { defaults() } else { Vec::new() };
    all.retain(|d| !configured.iter().any(|c| c.path == d.path));
    all.extend(configured);
    for d in &all {
        create(d, rootfs, in_userns)
            .with_context(|| format!("create device {}", d.path.display()))?;
    }
    if populate {
        links(rootfs)?;
    }
    Ok(())
}

fn create(d: &Dev, rootfs: &Path, in_userns: bool) -> Result<()> {
    let dest = super::resolve_in_root(rootfs, &d.path)?;
    if let Some(parent) = dest.parent() {
        super::mounts::mkdir_all(parent)?;
    }
    let _ = std::fs::remove_file(&dest);
    if in_userns {
        std::fs::File::create(&dest).with_context(|| format!("create {}", dest.display()))?;
        return sys::mount(Some(&d.path), &dest, None, libc::MS_BIND, None, &|| {
            format!("bind device {}", d.path.display())
        });
    }
    let c = sys::cstr(&dest)?;
    let dev = libc::makedev(d.major as u32, d.minor as u32);
    // SAFETY: valid path; mknod with a type and permission bits.
    if unsafe { libc::mknod(c.as_ptr(), d.kind | (d.mode & 0o7777), dev) } != 0 {
        return Err(Error::io(
            format!("mknod {}", dest.display()),
            std::io::Error::last_os_error(),
        ));
    }
    // mknod is subject to the umask: set the mode exactly.
    // SAFETY: valid path.
    unsafe {
        libc::chmod(c.as_ptr(), d.mode & 0o7777);
    }
    // SAFETY: valid path.
    if unsafe { libc::chown(c.as_ptr(), d.uid, d.gid) } != 0 {
        return Err(Error::io(
            format!("chown {}", dest.display()),
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

fn links(rootfs: &Path) -> Result<()> {
    let mut links = vec![
        ("/proc/self/fd", "dev/fd"),
        ("/proc/self/fd/0", "dev/stdin"),
        ("/proc/self/fd/1", "dev/stdout"),
        ("/proc/self/fd/2", "dev/stderr"),
    ];
    if Path::new("/proc/kcore").exists() {
        links.push(("/proc/kcore", "dev/core"));
    }
    for (target, link) in links {
        let p = rootfs.join(link);
        match std::os::unix::fs::symlink(target, &p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(format!("symlink {}", p.display()), e)),
        }
    }
    // /dev/ptmx must be the container's devpts instance.
    let ptmx = rootfs.join("dev/ptmx");
    if rootfs.join("dev/pts/ptmx").exists() {
        let _ = std::fs::remove_file(&ptmx);
        std::os::unix::fs::symlink("pts/ptmx", &ptmx)
            .with_context(|| format!("symlink {}", ptmx.display()))?;
    }
    Ok(())
}
