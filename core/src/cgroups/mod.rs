//! The container's cgroup: made before the init runs user code, limits applied (memory, cpu,
//! cpuset, pids, ...), removed on delete, behind one interface (`manager::CgroupManager`) with
//! two drivers: cgroupfs (`fs.rs`, through cgroups-rs: cgroup v1, v2 and the hybrid layout, v1
//! controllers plus cgroup2 at /sys/fs/cgroup/unified, where a controller living only in the
//! unified tree is simply not one of the container's v1 controllers) and systemd (`systemd/`,
//! a transient unit over D-Bus, then the same files inside its delegated cgroup).

mod devices;
mod devices_bpf;
mod existing;
mod fs;
pub use fs::Cgroupfs;
mod limits;
mod manager;
pub use manager::{manager, CgroupManager};
pub mod mounts;
mod path;
pub use path::{clean_path, path_for, systemd, systemd_path, CgroupPath, SystemdUnit};
mod ranges;
mod stats;
pub mod systemd;

/// The unit of a `slice:prefix:name` (tests only).
#[cfg(test)]
pub(crate) fn systemd_unit_for_tests(given: &str, id: &str) -> SystemdUnit {
    systemd(given, id).unwrap().systemd.unwrap()
}

use crate::err;
use crate::error::{Error, Result};
use oci_spec::runtime::{LinuxResources, Spec};
use std::collections::HashMap;

/// Moves `pid` into the sub-cgroup `sub` of the container whose init is `init_pid` (runc's
/// `exec --cgroup`): in the v1 hierarchies of `controllers`, or in every hierarchy when None.
/// The sub-cgroup must exist.
pub fn join_sub(pid: i32, init_pid: i32, controllers: Option<&[String]>, sub: &str) -> Result<()> {
    if sub.split('/').any(|c| c == "..") {
        return Err(err!(
            InvalidArgument,
            // runc's phrase, which callers match.
            "--cgroup: {} is not a sub cgroup path (it must stay below the container's cgroup)",
            sub
        ));
    }
    let paths = paths_of(init_pid);
    let mut joined = 0;
    for m in mounts::visible() {
        if let Some(want) = controllers {
            if !want.iter().any(|w| m.controllers.contains(w)) {
                continue;
            }
        }
        let base = match paths.get(m.key()) {
            Some(b) => b,
            None => continue,
        };
        let dir = m
            .mount_point
            .join(base.trim_start_matches('/'))
            .join(sub.trim_start_matches('/'));
        // runc's words, which callers match: "adding pid N to cgroups: failed to write N:
        // openat2 <dir>/cgroup.procs: no such file or directory".
        let procs = dir.join("cgroup.procs");
        let what = || {
            format!(
                "adding pid {pid} to cgroups: failed to write {pid}: openat2 {}",
                procs.display()
            )
        };
        if !dir.is_dir() {
            // In Go's lower case, as runc prints it.
            let e = err!(NotFound, "{}: no such file or directory", what());
            return Err(e.with_errno(Some(libc::ENOENT)));
        }
        std::fs::write(&procs, pid.to_string()).map_err(|e| Error::io(what(), e))?;
        joined += 1;
    }
    if joined == 0 {
        return Err(err!(
            NotFound,
            "--cgroup {:?}: no such cgroup controller",
            sub
        ));
    }
    Ok(())
}

/// Moves `pid` into the cgroup2 cgroup of the process `init_pid`.
pub fn join_init_unified(pid: i32, init_pid: i32) -> Result<()> {
    let rel = paths_of(init_pid)
        .remove("")
        .ok_or_else(|| err!(NotFound, "process {} has no cgroup2 cgroup", init_pid))?;
    let root = mounts::visible()
        .into_iter()
        .find(|m| m.fstype == "cgroup2")
        .ok_or_else(|| err!(NotFound, "cgroup2 is not mounted"))?
        .mount_point;
    let dir = root.join(rel.trim_start_matches('/'));
    std::fs::write(dir.join("cgroup.procs"), pid.to_string())
        .map_err(|e| Error::io(format!("join cgroup {}", dir.display()), e))
}

/// Checks `linux.resources` before anything is made for the container: values the kernel
/// would clamp or mangle, and malformed device rules.
pub fn check_resources(res: &LinuxResources) -> Result<()> {
    ranges::check(res)?;
    devices::check(res)?;
    check_unified(res)
}

/// `linux.resources.unified` names cgroup v2 files: an error on a v1 or hybrid host, in
/// runc's words.
pub(crate) fn check_unified(res: &LinuxResources) -> Result<()> {
    if res.unified().as_ref().is_some_and(|u| !u.is_empty())
        && !cgroups_rs::hierarchies::is_cgroup2_unified_mode()
    {
        return Err(err!(
            InvalidSpec,
            "invalid configuration: cannot use unified on cgroup v1 (linux.resources.unified \
             needs a cgroup v2 host)"
        ));
    }
    for k in res.unified().iter().flat_map(|u| u.keys()) {
        if k.contains('/') || k.starts_with('.') {
            return Err(err!(
                InvalidSpec,
                "linux.resources.unified: invalid key {:?}",
                k
            ));
        }
    }
    Ok(())
}

/// True when the config sets any resource limit (device rules aside).
pub fn has_limits(spec: &Spec) -> bool {
    let r = match spec.linux().as_ref().and_then(|l| l.resources().as_ref()) {
        Some(r) => r,
        None => return false,
    };
    r.memory().is_some()
        || r.cpu().is_some()
        || r.pids().is_some()
        || r.block_io().is_some()
        || r.hugepage_limits().as_ref().is_some_and(|h| !h.is_empty())
        || r.network().is_some()
        || r.rdma().as_ref().is_some_and(|x| !x.is_empty())
        || r.unified().as_ref().is_some_and(|x| !x.is_empty())
}

/// A process's cgroup path in each hierarchy, keyed by its first controller (or "" for v2).
pub fn paths_of(pid: i32) -> HashMap<String, String> {
    let text = std::fs::read_to_string(format!("/proc/{}/cgroup", pid)).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ':');
            let _ = it.next();
            let ctrls = it.next()?;
            let path = it.next()?;
            Some((
                ctrls.split(',').next().unwrap_or("").to_string(),
                path.to_string(),
            ))
        })
        .collect()
}
