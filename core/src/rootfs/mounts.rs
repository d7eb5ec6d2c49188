//! Preparing the root mount and performing config.json's mounts, in order, inside the root.

use super::options::{self, MountOptions};
use crate::error::{Context, Result};
use crate::sys;
use crate::sys::syscall::Syscall;
use oci_spec::runtime::{Mount, Spec};
use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// Makes the mount namespace private to the container and the rootfs a mount point of its own.
pub fn prepare_root(os: &dyn Syscall, spec: &Spec, rootfs: &Path) -> Result<()> {
    let prop = spec
        .linux()
        .as_ref()
        .and_then(|l| l.rootfs_propagation().as_deref())
        .and_then(super::propagation_flag)
        .unwrap_or(libc::MS_SLAVE | libc::MS_REC);
    // An unbindable rootfs could not be bound onto itself below: private until the pivot,
    // after which set_root_propagation makes / unbindable.
    let prop = if prop & libc::MS_UNBINDABLE != 0 {
        libc::MS_PRIVATE | libc::MS_REC
    } else {
        prop
    };
    os.mount(None, Path::new("/"), None, prop, None, &|| {
        "set the propagation of /".into()
    })?;
    // Whatever the propagation, a shared mount holding the rootfs (the rootfs itself when it
    // is a mount point, as containerd's snapshots are) is made private, as runc's
    // rootfsParentMountPrivate does: the bind below must not propagate to other namespaces,
    // and pivot_root refuses (EINVAL) a new root that is shared or has a shared parent.
    let info = os.mountinfo()?;
    if let Some((parent, true)) = mount_holding(&info, rootfs) {
        os.mount(None, &parent, None, libc::MS_PRIVATE, None, &|| {
            format!("make {} private", parent.display())
        })?;
    }
    os.mount(
        Some(rootfs),
        rootfs,
        None,
        libc::MS_BIND | libc::MS_REC,
        None,
        &|| format!("bind the rootfs {}", rootfs.display()),
    )
}

/// The mount point of the mount holding `path` (`path` itself when it is one; the top one
/// when mounts are stacked) and whether it is shared, from a mountinfo text.
fn mount_holding(mountinfo: &str, path: &Path) -> Option<(PathBuf, bool)> {
    let mut best: Option<(PathBuf, bool)> = None;
    for line in mountinfo.lines() {
        let Some(pre) = line.split(" - ").next() else {
            continue;
        };
        let fields: Vec<&str> = pre.split(' ').collect();
        let Some(mp) = fields.get(4).map(|f| PathBuf::from(unescape(f))) else {
            continue;
        };
        let longer = best
            .as_ref()
            .is_none_or(|(b, _)| mp.as_os_str().len() >= b.as_os_str().len());
        if path.starts_with(&mp) && longer {
            let shared = fields.iter().skip(6).any(|f| f.starts_with("shared:"));
            best = Some((mp, shared));
        }
    }
    best
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(field: &str) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) if b[i] == b'\\' => {
                out.push(d.iter().fold(0u8, |n, c| n.wrapping_mul(8) + (c - b'0')));
                i += 4;
            }
            _ => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Performs every mount of the config inside `rootfs`. `sources` holds, by mount index, bind
/// sources `rune create` opened before the init entered a user namespace (which may not be
/// allowed to reach them by path).
pub fn mount_all(
    os: &dyn Syscall,
    spec: &Spec,
    rootfs: &Path,
    bundle: &Path,
    cgroup_paths: &HashMap<String, String>,
    sources: &HashMap<usize, OwnedFd>,
) -> Result<()> {
    let root =
        std::fs::File::open(rootfs).with_context(|| format!("open rootfs {}", rootfs.display()))?;
    for (i, m) in spec.mounts().iter().flatten().enumerate() {
        mount_one(
            os,
            spec,
            m,
            root.as_raw_fd(),
            bundle,
            cgroup_paths,
            sources.get(&i),
        )
        .with_context(|| format!("mount {}", m.destination().display()))?;
    }
    Ok(())
}

/// The bind sources to open on the host side, by mount index: every bind mount's source, and
/// whether the bind is recursive.
pub fn bind_sources(spec: &Spec, bundle: &Path) -> Vec<(usize, PathBuf, bool)> {
    spec.mounts()
        .iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, m)| {
            let opts = options::parse(m.options().as_deref().unwrap_or(&[]));
            let bind = opts.is_bind() || m.typ().as_deref() == Some("bind");
            let src = m.source().as_ref()?;
            let path = if src.is_relative() {
                bundle.join(src)
            } else {
                src.clone()
            };
            bind.then_some((i, path, opts.flags & libc::MS_REC != 0))
        })
        .collect()
}

fn mount_one(
    os: &dyn Syscall,
    spec: &Spec,
    m: &Mount,
    root_fd: i32,
    bundle: &Path,
    cgroup_paths: &HashMap<String, String>,
    tree: Option<&OwnedFd>,
) -> Result<()> {
    let opts = options::parse(m.options().as_deref().unwrap_or(&[]));
    let typ = m.typ().as_deref().unwrap_or("");
    let bind = opts.is_bind() || typ == "bind";
    let source = m.source().as_ref().map(|s| {
        if bind && s.is_relative() {
            bundle.join(s)
        } else {
            s.clone()
        }
    });
    // A source `rune create` opened (a detached tree) is looked at through its descriptor.
    let looked_at = tree.map(|t| sys::fd_path(t.as_raw_fd())).or(source.clone());
    let source_is_file = bind
        && looked_at
            .as_ref()
            .and_then(|s| std::fs::metadata(s).ok())
            .is_some_and(|md| !md.is_dir());
    let reopen = || sys::open_in_root(root_fd, m.destination(), 0);
    // Made by descriptor inside the root: a symlink swapped in cannot lead out of it.
    let target_fd = if typ == "proc" || typ == "sysfs" {
        super::inroot::ordinary_dir(root_fd, m.destination(), typ)?
    } else if source_is_file {
        super::inroot::create_file(root_fd, m.destination())?;
        reopen()?
    } else {
        super::inroot::mkdir_all(root_fd, m.destination())?;
        reopen()?
    };
    let target = sys::fd_path(target_fd.as_raw_fd());
    if bind {
        let src = source.ok_or_else(|| crate::err!(InvalidSpec, "bind mount without a source"))?;
        match tree {
            Some(t) => {
                os.move_mount_onto(t.as_raw_fd(), target_fd.as_raw_fd(), &|| {
                    format!("bind {}", src.display())
                })?;
                remount_bind(os, &src, &opts, &reopen)?;
            }
            None => bind_mount(os, &src, &target, &opts, &reopen)?,
        }
    } else if typ == "cgroup" || typ == "cgroup2" {
        let cgns =
            crate::namespaces::listed_types(spec).contains(&crate::namespaces::NsType::Cgroup);
        super::cgroupfs::mount(os, &target, &opts, &reopen, cgroup_paths, cgns)?;
    } else {
        let flags = opts.flags & !(libc::MS_REMOUNT);
        let mut data = opts.data_string();
        // linux.mountLabel: the SELinux context of the mounts, where the host has SELinux.
        if let Some(label) = spec
            .linux()
            .as_ref()
            .and_then(|l| l.mount_label().as_deref())
        {
            let labelled = !matches!(typ, "proc" | "sysfs" | "cgroup" | "cgroup2" | "mqueue");
            if labelled && !label.is_empty() && crate::security::process_attrs::selinux_enabled() {
                let sep = if data.is_empty() { "" } else { "," };
                data = format!("{}{}context=\"{}\"", data, sep, label);
            }
        }
        let r = os.mount(
            source.as_deref(),
            &target,
            Some(typ),
            flags,
            Some(&data),
            &|| format!("mount {} ({})", m.destination().display(), typ),
        );
        match r {
            // sysfs cannot be mounted without a new network namespace in a user namespace:
            // bind the host's instead, as runc does.
            Err(e) if typ == "sysfs" && e.errno() == Some(libc::EPERM) => {
                let o = MountOptions {
                    flags: libc::MS_BIND | libc::MS_REC | flags,
                    ..opts.clone()
                };
                bind_mount(os, Path::new("/sys"), &target, &o, &reopen)?;
            }
            r => r?,
        }
        if opts.tmpcopyup && typ == "tmpfs" {
            super::copyup::copy_dir(&target_fd, &reopen()?)?;
        }
    }
    // The fd opened before the mount names the directory underneath it: open the new mount.
    let mounted = reopen()?;
    let target = sys::fd_path(mounted.as_raw_fd());
    for p in &opts.propagation {
        os.mount(None, &target, None, *p, None, &|| {
            format!("set propagation of {}", m.destination().display())
        })?;
    }
    opts.recursive.apply(os, mounted.as_raw_fd())
}

fn bind_mount(
    os: &dyn Syscall,
    src: &Path,
    target: &Path,
    opts: &MountOptions,
    reopen: &dyn Fn() -> Result<OwnedFd>,
) -> Result<()> {
    let rec = opts.flags & libc::MS_REC;
    os.mount(Some(src), target, None, libc::MS_BIND | rec, None, &|| {
        format!("bind {}", src.display())
    })?;
    remount_bind(os, src, opts, reopen)
}

/// The bind's own flags (ro, nosuid, ...), which a bind takes only by a remount.
fn remount_bind(
    os: &dyn Syscall,
    src: &Path,
    opts: &MountOptions,
    reopen: &dyn Fn() -> Result<OwnedFd>,
) -> Result<()> {
    let wanted = opts.flags & !(libc::MS_BIND | libc::MS_REC | libc::MS_REMOUNT);
    if wanted != 0 || opts.clear != 0 {
        // Keep the flags of the source the options do not clear: some may be locked.
        let mounted = reopen()?;
        let target = &sys::fd_path(mounted.as_raw_fd());
        let have = os.mount_flags(target)?;
        let flags = libc::MS_BIND | libc::MS_REMOUNT | ((have & !opts.clear) | wanted);
        os.mount(None, target, None, flags, None, &|| {
            format!("remount bind of {}", src.display())
        })?;
    }
    Ok(())
}

pub(super) fn mkdir_all(p: &Path) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(p)
        .with_context(|| format!("create directory {}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rootfs::testing::{spec, Scratch};
    use crate::sys::syscall::{Call, Fake};

    const INFO: &str = "\
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
30 22 0:40 / /run/c\\040d rw shared:7 - tmpfs tmpfs rw
31 30 0:41 / /run/c\\040d/rootfs rw shared:9 master:2 - overlay overlay rw
32 30 0:42 / /run/c\\040d/rootfs rw master:3 - overlay overlay rw
40 22 0:43 / /var/lib rw - tmpfs tmpfs rw
";

    #[test]
    fn the_mount_holding_a_path() {
        let at = |p: &str| mount_holding(INFO, Path::new(p));
        // A rootfs that is a mount point itself: the top of the stacked mounts.
        assert_eq!(
            at("/run/c d/rootfs"),
            Some((PathBuf::from("/run/c d/rootfs"), false))
        );
        assert_eq!(at("/run/c d/x"), Some((PathBuf::from("/run/c d"), true)));
        // A prefix of the name is not a parent directory.
        assert_eq!(at("/var/library"), Some((PathBuf::from("/"), true)));
        assert_eq!(at("/var/lib/r"), Some((PathBuf::from("/var/lib"), false)));
    }

    fn mount_all_in(fake: &Fake, s: &Scratch, mounts: &str) -> Result<()> {
        let spec = spec(&format!(r#""mounts":{mounts}"#));
        mount_all(
            fake,
            &spec,
            &s.root,
            &s.dir,
            &HashMap::new(),
            &HashMap::new(),
        )
    }

    const NOSUID_NOEXEC_NODEV: libc::c_ulong = libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_NODEV;

    #[test]
    fn prepare_root_makes_a_shared_parent_private_before_binding_the_rootfs() {
        let fake = Fake::new().mountinfo_is(INFO);
        let rootfs = Path::new("/run/c d/bundle/rootfs");
        prepare_root(&fake, &spec(""), rootfs).unwrap();
        assert_eq!(
            fake.calls(),
            [
                Call::mount(
                    None,
                    Path::new("/"),
                    None,
                    libc::MS_SLAVE | libc::MS_REC,
                    None
                ),
                // Read after / changed: the propagation it reports is the new one.
                Call::Mountinfo,
                Call::mount(None, Path::new("/run/c d"), None, libc::MS_PRIVATE, None),
                Call::mount(
                    Some(rootfs),
                    rootfs,
                    None,
                    libc::MS_BIND | libc::MS_REC,
                    None
                ),
            ]
        );
    }

    #[test]
    fn an_unbindable_rootfs_propagation_is_private_until_the_pivot() {
        let fake = Fake::new().mountinfo_is(INFO);
        let spec = spec(r#""linux":{"rootfsPropagation":"runbindable"}"#);
        // The mount holding it (/var/lib) is not shared: nothing to make private.
        let rootfs = Path::new("/var/lib/rootfs");
        prepare_root(&fake, &spec, rootfs).unwrap();
        let flags: Vec<_> = fake
            .mounts()
            .iter()
            .map(|c| match c {
                Call::Mount { target, flags, .. } => (target.clone(), *flags),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            flags,
            [
                (PathBuf::from("/"), libc::MS_PRIVATE | libc::MS_REC),
                (rootfs.to_path_buf(), libc::MS_BIND | libc::MS_REC),
            ]
        );
    }

    #[test]
    fn proc_and_a_dev_tmpfs_are_mounted_in_order_with_their_flags_and_data() {
        let (fake, s) = (Fake::new(), Scratch::new("mount-proc"));
        mount_all_in(
            &fake,
            &s,
            r#"[{"destination":"/proc","type":"proc","source":"proc",
                 "options":["nosuid","noexec","nodev"]},
                {"destination":"/dev","type":"tmpfs","source":"tmpfs",
                 "options":["nosuid","strictatime","mode=755","size=65536k"]}]"#,
        )
        .unwrap();
        assert_eq!(
            fake.calls(),
            [
                Call::mount(
                    Some(Path::new("proc")),
                    &s.inside("/proc"),
                    Some("proc"),
                    NOSUID_NOEXEC_NODEV,
                    None
                ),
                Call::mount(
                    Some(Path::new("tmpfs")),
                    &s.inside("/dev"),
                    Some("tmpfs"),
                    libc::MS_NOSUID | libc::MS_STRICTATIME,
                    Some("mode=755,size=65536k")
                ),
            ]
        );
        // The mount points were made inside the rootfs.
        assert!(s.inside("/proc").is_dir() && s.inside("/dev").is_dir());
    }

    /// Binds the bundle's directory `src` on /data with `options`; returns /data in the rootfs
    /// and the bind mount(2) call expected first (a relative source is the bundle's).
    fn bind_src(fake: &Fake, s: &Scratch, options: &str) -> (PathBuf, Call) {
        std::fs::create_dir(s.dir.join("src")).unwrap();
        let mounts = format!(
            r#"[{{"destination":"/data","type":"bind","source":"src","options":{options}}}]"#
        );
        mount_all_in(fake, s, &mounts).unwrap();
        let target = s.inside("/data");
        let rbind = libc::MS_BIND | libc::MS_REC;
        let bind = Call::mount(Some(&s.dir.join("src")), &target, None, rbind, None);
        (target, bind)
    }

    #[test]
    fn a_bind_takes_ro_and_nosuid_by_a_remount_that_keeps_the_source_flags() {
        let s = Scratch::new("mount-bind");
        // The source is nodev and noexec (say, locked by a user namespace); `exec` clears one.
        let fake = Fake::new().mount_flags_are(libc::MS_NODEV | libc::MS_NOEXEC);
        let (target, bind) = bind_src(&fake, &s, r#"["rbind","ro","nosuid","exec"]"#);
        let remount = libc::MS_BIND | libc::MS_REMOUNT;
        let flags = remount | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV;
        assert_eq!(
            fake.calls(),
            [
                bind,
                Call::MountFlags(target.clone()),
                Call::mount(None, &target, None, flags, None),
            ]
        );
    }

    #[test]
    fn a_plain_bind_of_a_file_needs_no_remount() {
        let s = Scratch::new("mount-file");
        let src = s.dir.join("resolv.conf");
        std::fs::write(&src, "nameserver 10.0.0.1\n").unwrap();
        let fake = Fake::new();
        let mounts = format!(
            r#"[{{"destination":"/etc/resolv.conf","source":"{}","options":["bind"]}}]"#,
            src.display()
        );
        mount_all_in(&fake, &s, &mounts).unwrap();
        let target = s.inside("/etc/resolv.conf");
        assert_eq!(
            fake.calls(),
            [Call::mount(Some(&src), &target, None, libc::MS_BIND, None)]
        );
        // The destination was made as an empty file, not a directory.
        assert!(std::fs::metadata(&target).unwrap().is_file());
    }

    #[test]
    fn propagation_then_recursive_options_follow_the_mount() {
        let (fake, s) = (Fake::new(), Scratch::new("mount-rec"));
        let (target, bind) = bind_src(&fake, &s, r#"["rbind","rro","rnosuid","rslave"]"#);
        assert_eq!(
            fake.calls(),
            [
                // rro and rnosuid are no mount(2) flags: no remount for them.
                bind,
                Call::mount(None, &target, None, libc::MS_SLAVE | libc::MS_REC, None),
                Call::MountSetattr {
                    target: target.clone(),
                    recursive: true,
                    set: libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NOSUID,
                    clear: 0,
                },
            ]
        );
    }

    #[test]
    fn a_source_opened_by_create_is_attached_with_move_mount() {
        let s = Scratch::new("mount-tree");
        let src = s.dir.join("src");
        std::fs::create_dir(&src).unwrap();
        let fake = Fake::new();
        let spec = spec(
            r#""mounts":[{"destination":"/tmp","type":"tmpfs","source":"tmpfs"},
                         {"destination":"/data","source":"src","options":["bind","ro"]}]"#,
        );
        let tree = OwnedFd::from(std::fs::File::open(&src).unwrap());
        let sources = HashMap::from([(1, tree)]);
        mount_all(&fake, &spec, &s.root, &s.dir, &HashMap::new(), &sources).unwrap();
        let target = s.inside("/data");
        assert_eq!(
            fake.calls()[1..],
            [
                Call::MoveMount {
                    tree: src,
                    target: target.clone()
                },
                Call::MountFlags(target.clone()),
                Call::mount(
                    None,
                    &target,
                    None,
                    libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY,
                    None
                ),
            ]
        );
    }

    #[test]
    fn sysfs_refused_in_a_user_namespace_binds_the_hosts() {
        let s = Scratch::new("mount-sysfs");
        let fake = Fake::new().fail(
            |c| matches!(c, Call::Mount { fstype: Some(t), .. } if t == "sysfs"),
            libc::EPERM,
        );
        mount_all_in(
            &fake,
            &s,
            r#"[{"destination":"/sys","type":"sysfs","source":"sysfs",
                 "options":["nosuid","noexec","nodev","ro"]}]"#,
        )
        .unwrap();
        let target = s.inside("/sys");
        let flags = NOSUID_NOEXEC_NODEV | libc::MS_RDONLY;
        assert_eq!(
            fake.mounts(),
            [
                Call::mount(
                    Some(Path::new("sysfs")),
                    &target,
                    Some("sysfs"),
                    flags,
                    None
                ),
                // The bind itself is recursive only; its flags come by the remount.
                Call::mount(
                    Some(Path::new("/sys")),
                    &target,
                    None,
                    libc::MS_BIND | libc::MS_REC,
                    None
                ),
                Call::mount(
                    None,
                    &target,
                    None,
                    libc::MS_BIND | libc::MS_REMOUNT | flags,
                    None
                ),
            ]
        );
    }

    #[test]
    fn a_failed_mount_names_it_and_stops_the_mounts_after_it() {
        let s = Scratch::new("mount-fail");
        let proc = s.inside("/proc");
        let fake = Fake::new().fail(move |c| c.target() == Some(&proc), libc::EBUSY);
        let e = mount_all_in(
            &fake,
            &s,
            r#"[{"destination":"/tmp","type":"tmpfs","source":"tmpfs"},
                {"destination":"/proc","type":"proc","source":"proc"},
                {"destination":"/dev","type":"tmpfs","source":"tmpfs"}]"#,
        )
        .unwrap_err();
        assert_eq!(e.errno(), Some(libc::EBUSY));
        assert_eq!(
            e.message(),
            "mount /proc: mount /proc (proc): Device or resource busy"
        );
        let targets: Vec<_> = fake
            .calls()
            .iter()
            .map(|c| c.target().map(Path::to_path_buf))
            .collect();
        assert_eq!(targets, [Some(s.inside("/tmp")), Some(s.inside("/proc"))]);
        assert!(!s.inside("/dev").exists());
    }

    #[test]
    fn bind_sources_are_the_binds_by_index_from_the_bundle() {
        let spec = spec(
            r#""mounts":[{"destination":"/proc","type":"proc","source":"proc"},
                         {"destination":"/a","source":"a","options":["rbind"]},
                         {"destination":"/b","type":"bind","source":"/srv/b"}]"#,
        );
        assert_eq!(
            bind_sources(&spec, Path::new("/bundle")),
            [
                (1, PathBuf::from("/bundle/a"), true),
                (2, PathBuf::from("/srv/b"), false)
            ]
        );
    }
}
