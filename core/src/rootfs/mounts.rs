//! Preparing the root mount and performing config.json's mounts, in order, inside the root.

use super::options::{self, MountOptions};
use crate::error::{Context, Result};
use crate::sys;
use crate::sys::syscall::Syscall;
use oci_spec::runtime::{Mount, Spec};
use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
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
    // After a recursive slave or private propagation (the default, rslave) no mount is
    // shared: mountinfo, which costs with every mount of the host, is not read then.
    let none_shared = prop & libc::MS_REC != 0 && prop & (libc::MS_SLAVE | libc::MS_PRIVATE) != 0;
    if none_shared {
        return bind_rootfs(os, rootfs);
    }
    let info = os.mountinfo()?;
    if let Some((parent, true)) = mount_holding(&info, rootfs) {
        os.mount(None, &parent, None, libc::MS_PRIVATE, None, &|| {
            format!("make {} private", parent.display())
        })?;
    }
    bind_rootfs(os, rootfs)
}

/// The rootfs bound onto itself: a mount point of its own, to pivot into.
fn bind_rootfs(os: &dyn Syscall, rootfs: &Path) -> Result<()> {
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
    for e in crate::mountinfo::parse(mountinfo) {
        let longer = best
            .as_ref()
            .is_none_or(|(b, _)| e.mount_point.as_os_str().len() >= b.as_os_str().len());
        if path.starts_with(&e.mount_point) && longer {
            best = Some((e.mount_point.clone(), e.is_shared()));
        }
    }
    best
}

/// Performs every mount of the config inside `rootfs`. `sources` holds, by mount index, bind
/// sources `rune create` opened before the init entered a user namespace (which may not be
/// allowed to reach them by path).
pub fn mount_all(
    os: &dyn Syscall,
    spec: &Spec,
    rootfs: &Path,
    bundle: &Path,
    cgroups: &[super::cgroupfs::Hierarchy],
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
            cgroups,
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
            let bind = opts.binds(m.typ().as_deref());
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
    cgroups: &[super::cgroupfs::Hierarchy],
    tree: Option<&OwnedFd>,
) -> Result<()> {
    let opts = options::parse(m.options().as_deref().unwrap_or(&[]));
    let typ = m.typ().as_deref().unwrap_or("");
    let bind = opts.binds(Some(typ));
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
    let target_fd = make_target(root_fd, m.destination(), typ, source_is_file)?;
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
        super::cgroupfs::mount(os, &target, &opts, &reopen, cgroups, cgns)?;
    } else {
        let data = data_with_label(spec, typ, &opts);
        mount_fs(
            os,
            m,
            typ,
            source.as_deref(),
            &target_fd,
            &opts,
            &data,
            &reopen,
        )?;
    }
    set_propagation(os, m, &opts, &reopen)
}

/// The mount point, made by descriptor inside the root (a symlink swapped in cannot lead out
/// of it): a directory, or an empty file for a file's bind; proc and sysfs need a plain one.
fn make_target(root_fd: i32, dest: &Path, typ: &str, source_is_file: bool) -> Result<OwnedFd> {
    if typ == "proc" || typ == "sysfs" {
        return super::inroot::ordinary_dir(root_fd, dest, typ);
    }
    if source_is_file {
        super::inroot::create_file(root_fd, dest)?;
    } else {
        super::inroot::mkdir_all(root_fd, dest)?;
    }
    sys::open_in_root(root_fd, dest, 0)
}

/// The mount's data, with linux.mountLabel as its SELinux context where the host has SELinux.
fn data_with_label(spec: &Spec, typ: &str, opts: &MountOptions) -> String {
    let mut data = opts.data_string();
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
    data
}

/// A file system mount (not a bind, not cgroup): sysfs refused in a user namespace falls back
/// to the host's, bound, as runc does; a tmpfs with tmpcopyup gets the directory's contents.
#[allow(clippy::too_many_arguments)]
fn mount_fs(
    os: &dyn Syscall,
    m: &Mount,
    typ: &str,
    source: Option<&Path>,
    target_fd: &OwnedFd,
    opts: &MountOptions,
    data: &str,
    reopen: &dyn Fn() -> Result<OwnedFd>,
) -> Result<()> {
    let target = sys::fd_path(target_fd.as_raw_fd());
    // As runc: a tmpfs, and /dev, is mounted writable first; files go in (tmpcopyup, the
    // device nodes and /dev/pts) before it is made read-only as asked.
    let later_ro = delays_read_only(m, typ);
    let flags = opts.flags & !(libc::MS_REMOUNT) & !later_ro;
    let r = os.mount(source, &target, Some(typ), flags, Some(data), &|| {
        format!("mount {} ({})", m.destination().display(), typ)
    });
    match r {
        // sysfs cannot be mounted without a new network namespace in a user namespace:
        // bind the host's instead, as runc does.
        Err(e) if typ == "sysfs" && e.errno() == Some(libc::EPERM) => {
            let o = MountOptions {
                flags: libc::MS_BIND | libc::MS_REC | flags,
                ..opts.clone()
            };
            bind_mount(os, Path::new("/sys"), &target, &o, reopen)?;
        }
        r => r?,
    }
    if opts.tmpcopyup && typ == "tmpfs" {
        super::copyup::copy_dir(target_fd, &reopen()?)?;
    }
    if later_ro != 0 && !is_dev(m) {
        remount_read_only(os, m, &reopen()?, flags, data)?;
    }
    Ok(())
}

/// MS_RDONLY when the mount is made writable first and read-only later (a tmpfs, or /dev),
/// else 0.
fn delays_read_only(m: &Mount, typ: &str) -> libc::c_ulong {
    let opts = options::parse(m.options().as_deref().unwrap_or(&[]));
    if opts.flags & libc::MS_RDONLY != 0 && (typ == "tmpfs" || is_dev(m)) {
        libc::MS_RDONLY
    } else {
        0
    }
}

/// Whether the mount is at /dev (`/dev`, `/dev/`, `//dev/.`).
pub(super) fn is_dev(m: &Mount) -> bool {
    use std::path::Component;
    let mut names = m
        .destination()
        .components()
        .filter(|c| !matches!(c, Component::RootDir | Component::CurDir));
    names.next() == Some(Component::Normal("dev".as_ref())) && names.next().is_none()
}

/// Remounts the mount `at` (a descriptor of its root) read-only, with its other flags and data.
fn remount_read_only(
    os: &dyn Syscall,
    m: &Mount,
    at: &OwnedFd,
    flags: libc::c_ulong,
    data: &str,
) -> Result<()> {
    let target = sys::fd_path(at.as_raw_fd());
    let flags = libc::MS_REMOUNT | libc::MS_RDONLY | (flags & !libc::MS_REC);
    os.mount(None, &target, None, flags, Some(data), &|| {
        format!("remount {} read-only", m.destination().display())
    })
}

/// The last step of the mounts: a /dev asked read-only becomes so once its device nodes,
/// links and /dev/pts are in place (runc's finalizeRootfs).
pub fn finish_dev(os: &dyn Syscall, spec: &Spec, rootfs: &Path) -> Result<()> {
    let Some(m) = spec.mounts().iter().flatten().rev().find(|m| is_dev(m)) else {
        return Ok(());
    };
    let typ = m.typ().as_deref().unwrap_or("");
    if delays_read_only(m, typ) == 0 {
        return Ok(());
    }
    let opts = options::parse(m.options().as_deref().unwrap_or(&[]));
    let root =
        std::fs::File::open(rootfs).with_context(|| format!("open rootfs {}", rootfs.display()))?;
    let dev = sys::open_in_root(root.as_raw_fd(), Path::new("/dev"), 0)?;
    let data = data_with_label(spec, typ, &opts);
    remount_read_only(os, m, &dev, opts.flags & !libc::MS_RDONLY, &data)
}

/// The mount's propagation flags and recursive attributes, on the new mount (the fd opened
/// before the mount names the directory underneath it).
fn set_propagation(
    os: &dyn Syscall,
    m: &Mount,
    opts: &MountOptions,
    reopen: &dyn Fn() -> Result<OwnedFd>,
) -> Result<()> {
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

#[cfg(test)]
#[path = "mounts_tests.rs"]
mod tests;
