//! /dev inside the container: the default devices of config-linux.md, `linux.devices`, the
//! standard symlinks and /dev/ptmx.

use crate::error::{Context, Error, Result};
use crate::sys;
use oci_spec::runtime::{LinuxDeviceType, Spec};
use std::os::fd::{AsRawFd, RawFd};
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
    let root =
        std::fs::File::open(rootfs).with_context(|| format!("open rootfs {}", rootfs.display()))?;
    for d in &all {
        create(d, root.as_raw_fd(), in_userns)
            .with_context(|| format!("create device {}", d.path.display()))?;
    }
    if populate {
        links(root.as_raw_fd())?;
    }
    Ok(())
}

fn create(d: &Dev, root: RawFd, in_userns: bool) -> Result<()> {
    let dest = &d.path;
    super::inroot::unlink(root, dest)?;
    if in_userns {
        super::inroot::create_file(root, dest)?;
        let fd = sys::open_in_root(root, dest, libc::O_NOFOLLOW)?;
        return sys::mount(
            Some(&d.path),
            &sys::fd_path(fd.as_raw_fd()),
            None,
            libc::MS_BIND,
            None,
            &|| format!("bind device {}", d.path.display()),
        );
    }
    let (dir, name) = super::inroot::parent_of(root, dest)?;
    let dev = libc::makedev(d.major as u32, d.minor as u32);
    sys::mknodat(dir.as_raw_fd(), &name, d.kind, d.mode, dev)
        .map_err(|e| Error::io(format!("mknod {}", dest.display()), e))?;
    // The node itself, by an O_PATH descriptor (never a path a swap could redirect); mknod is
    // subject to the umask, so the mode is set exactly.
    let node = sys::open_in_root(root, dest, libc::O_NOFOLLOW)?;
    sys::chmod_chown_fd(node.as_raw_fd(), d.mode, d.uid, d.gid)
        .map_err(|e| e.context(format!("{}", dest.display())))
}

fn links(root: RawFd) -> Result<()> {
    let mut links = vec![
        ("/proc/self/fd", "/dev/fd"),
        ("/proc/self/fd/0", "/dev/stdin"),
        ("/proc/self/fd/1", "/dev/stdout"),
        ("/proc/self/fd/2", "/dev/stderr"),
    ];
    if Path::new("/proc/kcore").exists() {
        links.push(("/proc/kcore", "/dev/core"));
    }
    let symlink = |target: &str, link: &str| -> std::io::Result<()> {
        let (dir, name) = super::inroot::parent_of(root, Path::new(link))
            .map_err(|e| std::io::Error::from_raw_os_error(e.errno().unwrap_or(libc::EINVAL)))?;
        let t = std::ffi::CString::new(target).unwrap_or_default();
        sys::symlinkat(&t, dir.as_raw_fd(), &name)
    };
    for (target, link) in links {
        match symlink(target, link) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(format!("symlink {}", link), e)),
        }
    }
    // /dev/ptmx must be the container's devpts instance.
    if sys::open_in_root(root, Path::new("/dev/pts/ptmx"), 0).is_ok() {
        super::inroot::unlink(root, Path::new("/dev/ptmx"))?;
        symlink("pts/ptmx", "/dev/ptmx").map_err(|e| Error::io("symlink /dev/ptmx", e))?;
    }
    Ok(())
}
