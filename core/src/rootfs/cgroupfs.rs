//! The `cgroup` mount inside a container: the container's own cgroups, never the host's tree.
//! In a cgroup namespace each hierarchy is mounted afresh (its root is the container's cgroup);
//! without one, the container's cgroup directories are bind-mounted.

use super::options::MountOptions;
use crate::error::{Context, Result};
use crate::sys;
use crate::sys::syscall::Syscall;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One hierarchy the host has mounted, as the container's cgroup mount shows it. `rune create`
/// finds them (`hierarchies`) and sends them to the init, which need not read mountinfo again.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Hierarchy {
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
    os: &dyn Syscall,
    target: &Path,
    opts: &MountOptions,
    reopen: &dyn Fn() -> Result<std::os::fd::OwnedFd>,
    hier: &[Hierarchy],
    in_cgroupns: bool,
) -> Result<()> {
    mount_hierarchies(os, target, opts, reopen, hier, in_cgroupns)
}

/// The cgroup mount of `hier`, the hierarchies the host has mounted.
fn mount_hierarchies(
    os: &dyn Syscall,
    target: &Path,
    opts: &MountOptions,
    reopen: &dyn Fn() -> Result<std::os::fd::OwnedFd>,
    hier: &[Hierarchy],
    in_cgroupns: bool,
) -> Result<()> {
    let flags = opts.flags
        & (libc::MS_RDONLY
            | libc::MS_NOSUID
            | libc::MS_NODEV
            | libc::MS_NOEXEC
            | libc::MS_RELATIME);
    let unified_only = hier.len() == 1 && hier[0].fstype == "cgroup2" && hier[0].name.is_empty();
    if unified_only {
        return mount_one(os, &hier[0], target, flags, in_cgroupns, Some(reopen));
    }
    os.mount(
        Some(Path::new("tmpfs")),
        target,
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        Some("mode=755"),
        &|| "mount tmpfs for cgroups".into(),
    )?;
    let top = reopen()?;
    let target = &sys::fd_path(std::os::fd::AsRawFd::as_raw_fd(&top));
    for h in hier {
        let dir = target.join(&h.name);
        mkdir_all(&dir)?;
        mount_one(os, h, &dir, flags, in_cgroupns, None)?;
    }
    if flags & libc::MS_RDONLY != 0 {
        os.mount(
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
    os: &dyn Syscall,
    h: &Hierarchy,
    dir: &Path,
    flags: libc::c_ulong,
    in_cgroupns: bool,
    reopen: Option<&dyn Fn() -> Result<std::os::fd::OwnedFd>>,
) -> Result<()> {
    if in_cgroupns && h.fstype == "cgroup2" {
        os.mount(
            Some(Path::new("cgroup")),
            dir,
            Some("cgroup2"),
            flags,
            None,
            &|| format!("mount cgroup hierarchy {}", h.options),
        )
    } else {
        let src = h.mount_point.join(h.path.trim_start_matches('/'));
        os.mount(
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
        os.mount(None, &dir, None, f, None, &|| {
            format!("remount cgroup {}", src.display())
        })
    }
}

/// The host's cgroup hierarchies with a process's cgroup `paths` in them (by hierarchy key, as
/// /proc/<pid>/cgroup lists them).
pub fn hierarchies(paths: &HashMap<String, String>) -> Vec<Hierarchy> {
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

/// A directory in the cgroup tmpfs (this init's own, fresh: no path of the container's).
fn mkdir_all(p: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(p)
        .with_context(|| format!("create directory {}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rootfs::options;
    use crate::rootfs::testing::Scratch;
    use crate::sys::syscall::{Call, Fake};

    fn hierarchy(name: &str, fstype: &str, path: &str) -> Hierarchy {
        Hierarchy {
            name: name.into(),
            fstype: fstype.into(),
            options: name.into(),
            mount_point: Path::new("/sys/fs/cgroup").join(name),
            path: path.into(),
        }
    }

    fn run(fake: &Fake, s: &Scratch, hier: &[Hierarchy], opts: &[&str], cgns: bool) {
        let opts = options::parse(&opts.iter().map(|o| o.to_string()).collect::<Vec<_>>());
        let reopen = || {
            let f = std::fs::File::open(&s.root).context("open the rootfs")?;
            Ok(std::os::fd::OwnedFd::from(f))
        };
        mount_hierarchies(fake, &s.root, &opts, &reopen, hier, cgns).unwrap();
    }

    const RO: libc::c_ulong = libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;

    #[test]
    fn cgroup2_in_a_cgroup_namespace_is_mounted_afresh() {
        let (fake, s) = (Fake::new(), Scratch::new("cgroupns"));
        let opts = ["ro", "nosuid", "nodev", "noexec", "relatime", "nsdelegate"];
        run(&fake, &s, &[hierarchy("", "cgroup2", "/c1")], &opts, true);
        // Only the flags a cgroup mount may take; no data.
        assert_eq!(
            fake.calls(),
            [Call::mount(
                Some(Path::new("cgroup")),
                &s.root,
                Some("cgroup2"),
                RO | libc::MS_RELATIME,
                None
            )]
        );
    }

    #[test]
    fn cgroup2_without_a_cgroup_namespace_binds_the_containers_cgroup() {
        let (fake, s) = (Fake::new(), Scratch::new("cgroup-bind"));
        run(
            &fake,
            &s,
            &[hierarchy("", "cgroup2", "/c1")],
            &["ro"],
            false,
        );
        assert_eq!(
            fake.calls(),
            [
                Call::mount(
                    Some(Path::new("/sys/fs/cgroup/c1")),
                    &s.root,
                    None,
                    libc::MS_BIND | libc::MS_REC,
                    None
                ),
                Call::mount(
                    None,
                    &s.root,
                    None,
                    libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY,
                    None
                ),
            ]
        );
    }

    #[test]
    fn v1_hierarchies_are_bound_under_a_tmpfs_made_read_only_last() {
        let (fake, s) = (Fake::new(), Scratch::new("cgroup-v1"));
        let hier = [
            hierarchy("cpu", "cgroup", "/c1"),
            hierarchy("unified", "cgroup2", "/c1"),
        ];
        run(&fake, &s, &hier, &["ro"], true);
        let tmpfs_flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
        let bind = |name: &str| {
            let src = Path::new("/sys/fs/cgroup").join(name).join("c1");
            Call::mount(
                Some(&src),
                &s.root.join(name),
                None,
                libc::MS_BIND | libc::MS_REC,
                None,
            )
        };
        let remount = |name: &str| {
            let flags = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY;
            Call::mount(None, &s.root.join(name), None, flags, None)
        };
        let fresh = |name: &str| {
            let dir = s.root.join(name);
            Call::mount(
                Some(Path::new("cgroup")),
                &dir,
                Some("cgroup2"),
                libc::MS_RDONLY,
                None,
            )
        };
        assert_eq!(
            fake.calls(),
            [
                Call::mount(
                    Some(Path::new("tmpfs")),
                    &s.root,
                    Some("tmpfs"),
                    tmpfs_flags,
                    Some("mode=755")
                ),
                // v1 is bound even in a cgroup namespace; cgroup2 there is mounted afresh.
                bind("cpu"),
                remount("cpu"),
                fresh("unified"),
                Call::mount(None, &s.root, None, libc::MS_REMOUNT | RO, Some("mode=755")),
            ]
        );
        assert!(s.root.join("cpu").is_dir() && s.root.join("unified").is_dir());
    }
}
