//! The `cgroup` mount inside a container: the container's own cgroups, never the host's tree.
//! In a cgroup namespace each hierarchy is mounted afresh (its root is the container's cgroup);
//! without one, the container's cgroup directories are bind-mounted.

use super::options::MountOptions;
use crate::error::Result;
use crate::sys;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

struct Hierarchy {
    /// Name under /sys/fs/cgroup (cpu, memory, systemd, unified, ...).
    name: String,
    fstype: String,
    /// Superblock options naming the controllers (e.g. "cpu" or "name=systemd").
    options: String,
    /// Where it is mounted now (before pivot_root: the host's view).
    mount_point: PathBuf,
    /// The process's cgroup path in it.
    path: String,
}

/// `reopen` opens the destination again: after the tmpfs is mounted, the old fd still names
/// the directory underneath it.
pub fn mount(
    target: &Path,
    opts: &MountOptions,
    reopen: &dyn Fn() -> Result<std::os::fd::OwnedFd>,
    paths: &HashMap<String, String>,
    in_cgroupns: bool,
) -> Result<()> {
    let hier = hierarchies(paths);
    let flags = opts.flags
        & (libc::MS_RDONLY
            | libc::MS_NOSUID
            | libc::MS_NODEV
            | libc::MS_NOEXEC
            | libc::MS_RELATIME);
    let unified_only = hier.len() == 1 && hier[0].fstype == "cgroup2" && hier[0].name.is_empty();
    if unified_only {
        return mount_one(&hier[0], target, flags, in_cgroupns, Some(reopen));
    }
    sys::mount(
        Some(Path::new("tmpfs")),
        target,
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        Some("mode=755"),
        &|| "mount tmpfs for cgroups".into(),
    )?;
    let top = reopen()?;
    let target = &sys::fd_path(std::os::fd::AsRawFd::as_raw_fd(&top));
    for h in &hier {
        let dir = target.join(&h.name);
        super::mounts::mkdir_all(&dir)?;
        mount_one(h, &dir, flags, in_cgroupns, None)?;
    }
    if flags & libc::MS_RDONLY != 0 {
        sys::mount(
            None,
            target,
            None,
            libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            Some("mode=755"),
            &|| "remount cgroup tmpfs read-only".into(),
        )?;
    }
    Ok(())
}

/// A v1 hierarchy is always bind-mounted from the container's cgroup (a fresh v1 mount is
/// refused in a user namespace); cgroup2 is mounted afresh inside a cgroup namespace.
/// `reopen`, where `dir` is an fd's path, names the bind mount for its remount: the old fd
/// still names the directory underneath.
fn mount_one(
    h: &Hierarchy,
    dir: &Path,
    flags: libc::c_ulong,
    in_cgroupns: bool,
    reopen: Option<&dyn Fn() -> Result<std::os::fd::OwnedFd>>,
) -> Result<()> {
    if in_cgroupns && h.fstype == "cgroup2" {
        let data = if h.fstype == "cgroup" {
            Some(h.options.as_str())
        } else {
            None
        };
        sys::mount(
            Some(Path::new("cgroup")),
            dir,
            Some(&h.fstype),
            flags,
            data,
            &|| format!("mount cgroup hierarchy {}", h.options),
        )
    } else {
        let src = h.mount_point.join(h.path.trim_start_matches('/'));
        sys::mount(
            Some(&src),
            dir,
            None,
            libc::MS_BIND | libc::MS_REC,
            None,
            &|| format!("bind cgroup {}", src.display()),
        )?;
        let mounted = reopen.map(|r| r()).transpose()?;
        let dir = match &mounted {
            Some(fd) => sys::fd_path(std::os::fd::AsRawFd::as_raw_fd(fd)),
            None => dir.to_path_buf(),
        };
        let f = libc::MS_BIND | libc::MS_REMOUNT | flags;
        sys::mount(None, &dir, None, f, None, &|| {
            format!("remount cgroup {}", src.display())
        })
    }
}

fn hierarchies(paths: &HashMap<String, String>) -> Vec<Hierarchy> {
    crate::cgroups::mounts::visible()
        .into_iter()
        .filter_map(|m| {
            let name = m
                .mount_point
                .strip_prefix("/sys/fs/cgroup")
                .ok()?
                .to_string_lossy()
                .into_owned();
            Some(Hierarchy {
                path: paths.get(m.key()).cloned().unwrap_or_else(|| "/".into()),
                name,
                options: m.controllers.join(","),
                fstype: m.fstype,
                mount_point: m.mount_point,
            })
        })
        .collect()
}
