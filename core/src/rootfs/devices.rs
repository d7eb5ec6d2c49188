//! /dev inside the container: the default devices of config-linux.md, `linux.devices`, the
//! standard symlinks and /dev/ptmx.

use crate::error::{Context, Error, Result};
use crate::sys;
use crate::sys::syscall::Syscall;
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
    !spec
        .mounts()
        .iter()
        .flatten()
        .any(|m| super::mounts::is_dev(m) && super::options::is_bind_mount(m))
}

/// Creates the devices and links under `<rootfs>/dev`. In a user namespace, where mknod is not
/// allowed, the host's nodes are bind-mounted instead.
pub fn setup_dev(os: &dyn Syscall, spec: &Spec, rootfs: &Path, in_userns: bool) -> Result<()> {
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
        create(os, d, root.as_raw_fd(), in_userns)
            .with_context(|| format!("create device {}", d.path.display()))?;
    }
    if populate {
        links(os, root.as_raw_fd())?;
    }
    Ok(())
}

fn create(os: &dyn Syscall, d: &Dev, root: RawFd, in_userns: bool) -> Result<()> {
    let dest = &d.path;
    super::inroot::unlink(root, dest)?;
    if in_userns {
        super::inroot::create_file(root, dest)?;
        let fd = sys::open_in_root(root, dest, libc::O_NOFOLLOW)?;
        return os.mount(
            Some(&d.path),
            &sys::fd_path(fd.as_raw_fd()),
            None,
            libc::MS_BIND,
            None,
            &|| format!("bind device {}", d.path.display()),
        );
    }
    let (dir, name) = super::inroot::parent_of(root, dest)?;
    let dev = sys::devnum::makedev(d.major as u32, d.minor as u32);
    os.mknodat(dir.as_raw_fd(), &name, d.kind, d.mode, dev, &|| {
        format!("mknod {}", dest.display())
    })?;
    // The node itself, by an O_PATH descriptor (never a path a swap could redirect); mknod is
    // subject to the umask, so the mode is set exactly.
    let node = sys::open_in_root(root, dest, libc::O_NOFOLLOW)?;
    os.chmod_chown_fd(node.as_raw_fd(), d.mode, d.uid, d.gid)
        .map_err(|e| e.context(format!("{}", dest.display())))
}

fn links(os: &dyn Syscall, root: RawFd) -> Result<()> {
    let mut links = vec![
        ("/proc/self/fd", "/dev/fd"),
        ("/proc/self/fd/0", "/dev/stdin"),
        ("/proc/self/fd/1", "/dev/stdout"),
        ("/proc/self/fd/2", "/dev/stderr"),
    ];
    if Path::new("/proc/kcore").exists() {
        links.push(("/proc/kcore", "/dev/core"));
    }
    let symlink = |target: &str, link: &str| -> Result<()> {
        let what = || format!("symlink {}", link);
        let (dir, name) = super::inroot::parent_of(root, Path::new(link))
            .map_err(|e| Error::os(what(), e.errno().unwrap_or(libc::EINVAL)))?;
        let t = std::ffi::CString::new(target).unwrap_or_default();
        os.symlinkat(&t, dir.as_raw_fd(), &name, &what)
    };
    for (target, link) in links {
        match symlink(target, link) {
            Err(e) if e.errno() != Some(libc::EEXIST) => return Err(e),
            _ => {}
        }
    }
    // /dev/ptmx must be the container's devpts instance.
    if sys::open_in_root(root, Path::new("/dev/pts/ptmx"), 0).is_ok() {
        super::inroot::unlink(root, Path::new("/dev/ptmx"))?;
        symlink("pts/ptmx", "/dev/ptmx")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rootfs::testing::{spec, Scratch};
    use crate::sys::syscall::{Call, Fake};

    fn node(s: &Scratch, name: &str, major: u32, minor: u32, mode: u32, gid: u32) -> [Call; 2] {
        let path = s.inside("/dev").join(name);
        [
            Call::Mknod {
                path: path.clone(),
                kind: libc::S_IFCHR,
                mode,
                dev: sys::devnum::makedev(major, minor),
            },
            Call::ChmodChown {
                path,
                mode,
                uid: 0,
                gid,
            },
        ]
    }

    /// The calls but /dev/core's link, which is there only when the host has /proc/kcore.
    fn without_core(fake: &Fake) -> Vec<Call> {
        let core = Path::new("/proc/kcore");
        let not_core = |c: &Call| !matches!(c, Call::Symlink { target, .. } if target == core);
        fake.calls().into_iter().filter(not_core).collect()
    }

    #[test]
    fn default_nodes_with_configured_ones_replacing_them_then_the_links() {
        let (fake, s) = (Fake::new(), Scratch::new("dev-nodes"));
        let spec = spec(
            r#""linux":{"devices":[
                {"path":"/dev/tty","type":"c","major":5,"minor":0,"fileMode":400,"gid":5},
                {"path":"/dev/fuse","type":"c","major":10,"minor":229,"fileMode":384}]}"#,
        );
        setup_dev(&fake, &spec, &s.root, false).unwrap();
        let mut want: Vec<Call> = [
            node(&s, "null", 1, 3, 0o666, 0),
            node(&s, "zero", 1, 5, 0o666, 0),
            node(&s, "full", 1, 7, 0o666, 0),
            node(&s, "random", 1, 8, 0o666, 0),
            node(&s, "urandom", 1, 9, 0o666, 0),
            node(&s, "tty", 5, 0, 0o620, 5),
            node(&s, "fuse", 10, 229, 0o600, 0),
        ]
        .into_iter()
        .flatten()
        .collect();
        for (target, link) in [
            ("/proc/self/fd", "fd"),
            ("/proc/self/fd/0", "stdin"),
            ("/proc/self/fd/1", "stdout"),
            ("/proc/self/fd/2", "stderr"),
        ] {
            want.push(Call::Symlink {
                target: target.into(),
                link: s.inside("/dev").join(link),
            });
        }
        assert_eq!(without_core(&fake), want);
    }

    #[test]
    fn in_a_user_namespace_the_hosts_nodes_are_bound_instead_of_made() {
        let (fake, s) = (Fake::new(), Scratch::new("dev-userns"));
        let spec =
            spec(r#""linux":{"devices":[{"path":"/dev/sda","type":"b","major":8,"minor":0}]}"#);
        setup_dev(&fake, &spec, &s.root, true).unwrap();
        let binds: Vec<Call> = ["null", "zero", "full", "random", "urandom", "tty", "sda"]
            .iter()
            .map(|n| {
                let host = Path::new("/dev").join(n);
                Call::mount(
                    Some(&host),
                    &s.inside("/dev").join(n),
                    None,
                    libc::MS_BIND,
                    None,
                )
            })
            .collect();
        let made: Vec<Call> = without_core(&fake)
            .into_iter()
            .filter(|c| !matches!(c, Call::Symlink { .. }))
            .collect();
        assert_eq!(made, binds);
        // Each bind went onto an empty file made for it.
        assert!(s.inside("/dev/sda").is_file());
    }

    #[test]
    fn a_dev_bound_from_the_host_gets_only_the_configured_nodes_and_no_links() {
        let (fake, s) = (Fake::new(), Scratch::new("dev-bound"));
        let spec = spec(
            r#""mounts":[{"destination":"/dev","type":"bind","source":"/dev","options":["rbind"]}],
               "linux":{"devices":[{"path":"/dev/fifo","type":"p","major":0,"minor":0}]}"#,
        );
        setup_dev(&fake, &spec, &s.root, false).unwrap();
        let path = s.inside("/dev/fifo");
        assert_eq!(
            fake.calls(),
            [
                Call::Mknod {
                    path: path.clone(),
                    kind: libc::S_IFIFO,
                    mode: 0o666,
                    dev: sys::devnum::makedev(0, 0),
                },
                Call::ChmodChown {
                    path,
                    mode: 0o666,
                    uid: 0,
                    gid: 0
                },
            ]
        );
    }

    #[test]
    fn ptmx_becomes_a_link_to_the_containers_devpts() {
        let (fake, s) = (Fake::new(), Scratch::new("dev-ptmx"));
        std::fs::create_dir_all(s.inside("/dev/pts")).unwrap();
        std::fs::write(s.inside("/dev/pts/ptmx"), "").unwrap();
        std::fs::write(s.inside("/dev/ptmx"), "").unwrap();
        setup_dev(&fake, &spec(""), &s.root, false).unwrap();
        assert_eq!(
            fake.calls().last(),
            Some(&Call::Symlink {
                target: "pts/ptmx".into(),
                link: s.inside("/dev/ptmx")
            })
        );
        // The node that stood there was removed first.
        assert!(!s.inside("/dev/ptmx").exists());
    }

    #[test]
    fn a_refused_mknod_names_the_device_and_stops_there() {
        let s = Scratch::new("dev-fail");
        let zero = s.inside("/dev/zero");
        let fake = Fake::new().fail(
            move |c| matches!(c, Call::Mknod { path, .. } if *path == zero),
            libc::EPERM,
        );
        let e = setup_dev(&fake, &spec(""), &s.root, false).unwrap_err();
        assert_eq!(
            e.message(),
            "create device /dev/zero: mknod /dev/zero: Operation not permitted"
        );
        // null's two calls, then the failed mknod: no chmod of it, no later node, no link.
        assert_eq!(fake.calls().len(), 3);
    }
}
