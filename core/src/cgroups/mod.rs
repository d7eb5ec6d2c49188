//! The container's cgroup, through cgroups-rs: created before the init runs user code, limits
//! applied (memory, cpu, cpuset, pids), removed on delete. Works on cgroup v1, v2 and the hybrid
//! layout (v1 controllers plus cgroup2 at /sys/fs/cgroup/unified): cgroups-rs uses the v1
//! hierarchies there, so a controller living only in the unified tree (hugetlb here) is simply
//! not one of the container's v1 controllers.

mod devices;
mod devices_bpf;
mod existing;
mod limits;
pub mod mounts;
mod path;
pub use path::{clean_path, path_for, systemd_path, CgroupPath};
mod ranges;
mod stats;

use crate::err;
use crate::error::{Error, Result};
use cgroups_rs::cgroup::Cgroup;
use cgroups_rs::freezer::{FreezerController, FreezerState};
use cgroups_rs::memory::MemController;
use cgroups_rs::CgroupPid;
use oci_spec::runtime::{LinuxResources, Spec};
use std::collections::HashMap;
use std::path::PathBuf;

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
        if !dir.is_dir() {
            return Err(err!(NotFound, "--cgroup: {} does not exist", dir.display()));
        }
        std::fs::write(dir.join("cgroup.procs"), pid.to_string())
            .map_err(|e| Error::io(format!("join cgroup {}", dir.display()), e))?;
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

/// rmdir of every cgroup below `dir`, deepest first (cgroupfs files go with their directory).
fn remove_children(dir: &std::path::Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove_children(&e.path());
                let _ = std::fs::remove_dir(e.path());
            }
        }
    }
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

/// Where cgroup2 is mounted beside the v1 hierarchies (the hybrid layout), if it is.
fn hybrid_unified_root() -> Option<PathBuf> {
    let all = mounts::visible();
    if all.iter().any(|m| m.fstype == "cgroup") {
        all.into_iter()
            .find(|m| m.fstype == "cgroup2")
            .map(|m| m.mount_point)
    } else {
        None
    }
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

fn cg_err(what: &str, e: cgroups_rs::error::Error) -> Error {
    let errno = std::error::Error::source(&e)
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .and_then(|io| io.raw_os_error());
    let msg = format!("{}: {}", what, e);
    Error::new(crate::ErrorKind::Os, msg).with_errno(errno)
}

/// A container's cgroup.
pub struct Manager {
    cg: Cgroup,
    path: CgroupPath,
    /// On the hybrid layout, the container's directory in the cgroup2 tree, which runc joins
    /// too (no limits there; it groups the processes for tools such as systemd).
    /// Found when first needed: most uses (status, stats) never need it.
    /// (the cgroup2 mount, the container's directory in it)
    unified: std::cell::OnceCell<Option<(PathBuf, PathBuf)>>,
}

impl Manager {
    /// Creates the cgroup in every hierarchy.
    pub fn create(path: &CgroupPath) -> Result<Manager> {
        let m = Manager::load(path);
        // cgroups-rs makes each v2 directory with exists() then mkdir: a container created at the
        // same moment under the same parent can win that race (EEXIST). The directory is then
        // there, so a second pass goes on past it.
        let mut tries = 0;
        while let Err(e) = m.cg.create() {
            tries += 1;
            let e = cg_err(&format!("create cgroup {}", path), e);
            if e.errno() != Some(libc::EEXIST) || tries == 8 {
                let _ = m.cg.delete();
                return Err(e);
            }
        }
        // cgroups-rs ignores a failed mkdir in a v1 hierarchy: check each one.
        let mut dirs: Vec<PathBuf> =
            m.cg.subsystems()
                .iter()
                .map(|sub| cgroups_rs::Controller::path(sub.to_controller()).to_path_buf())
                .collect();
        if let Some(u) = m.unified() {
            let _ = std::fs::create_dir_all(u);
            dirs.push(u.clone());
        }
        if let Some(dir) = dirs.iter().find(|d| !d.is_dir()) {
            let _ = m.remove_once();
            return Err(Error::new(
                crate::ErrorKind::PermissionDenied,
                format!("create cgroup {}: cannot create {}", path, dir.display()),
            ));
        }
        Ok(m)
    }

    /// A handle on an existing cgroup.
    pub fn load(path: &CgroupPath) -> Manager {
        let hier = cgroups_rs::hierarchies::auto();
        let cg = if path.parents.is_empty() {
            Cgroup::load(hier, &path.path)
        } else {
            Cgroup::load_with_relative_paths(hier, &path.path, path.parents.clone())
        };
        Manager {
            cg,
            path: path.clone(),
            unified: Default::default(),
        }
    }

    /// The cgroup's directory on a v2 host.
    fn v2_dir(&self) -> PathBuf {
        cgroups_rs::hierarchies::auto()
            .root()
            .join(self.path.path.trim_start_matches('/'))
    }

    fn unified(&self) -> Option<&PathBuf> {
        self.unified_at().map(|(_, dir)| dir)
    }

    /// On the hybrid layout: where cgroup2 is mounted and the container's directory there.
    fn unified_at(&self) -> Option<&(PathBuf, PathBuf)> {
        self.unified
            .get_or_init(|| {
                if self.cg.v2() {
                    return None;
                }
                hybrid_unified_root().map(|root| {
                    let parent = self.path.parents.get("").map(String::as_str).unwrap_or("");
                    let dir = root
                        .join(parent.trim_start_matches('/'))
                        .join(&self.path.path);
                    (root, dir)
                })
            })
            .as_ref()
    }

    pub fn add(&self, pid: i32) -> Result<()> {
        self.cg
            .add_task_by_tgid(CgroupPid::from(pid as u64))
            .map_err(|e| cg_err(&format!("add process {} to cgroup {}", pid, self.path), e))?;
        if let Some(u) = self.unified() {
            std::fs::write(u.join("cgroup.procs"), pid.to_string()).map_err(|e| {
                Error::io(format!("add process {} to cgroup {}", pid, u.display()), e)
            })?;
        }
        Ok(())
    }

    /// Applies the config's device rules and limits.
    pub fn apply_spec(&self, spec: &Spec) -> Result<()> {
        let dc: Option<&cgroups_rs::devices::DevicesController> = self.cg.controller_of();
        if let Some(dc) = dc {
            devices::apply(dc, spec)?;
        } else if self.cg.v2() {
            devices_bpf::attach(&self.v2_dir(), spec)?;
        }
        if let Some(res) = spec.linux().as_ref().and_then(|l| l.resources().as_ref()) {
            self.apply(res)?;
        }
        Ok(())
    }

    /// Applies `linux.resources`; each failure names the limit.
    pub fn apply(&self, res: &LinuxResources) -> Result<()> {
        limits::apply(&self.cg, res)
    }

    /// The processes in the cgroup.
    pub fn pids(&self) -> Vec<i32> {
        self.cg.procs().into_iter().map(|p| p.pid as i32).collect()
    }

    /// Freezes every process of the cgroup and waits until the kernel says FROZEN.
    pub fn freeze(&self) -> Result<()> {
        let fc: &FreezerController = self.cg.controller_of().ok_or_else(|| {
            err!(
                InvalidState,
                "the freezer cgroup controller is not available"
            )
        })?;
        fc.freeze().map_err(|e| cg_err("freeze the container", e))?;
        for _ in 0..1000 {
            if matches!(fc.state(), Ok(FreezerState::Frozen)) {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let _ = fc.thaw();
        Err(err!(
            Os,
            "freeze the container: the cgroup did not reach FROZEN"
        ))
    }

    pub fn thaw(&self) -> Result<()> {
        let fc: &FreezerController = self.cg.controller_of().ok_or_else(|| {
            err!(
                InvalidState,
                "the freezer cgroup controller is not available"
            )
        })?;
        fc.thaw().map_err(|e| cg_err("thaw the container", e))
    }

    /// runc's `types.Stats` for `events`.
    pub fn stats(&self) -> serde_json::Value {
        stats::collect(&self.cg)
    }

    /// The OOM kill count of the memory cgroup (v1 memory.oom_control, v2 memory.events).
    pub fn oom_kills(&self) -> u64 {
        let mc: Option<&MemController> = self.cg.controller_of();
        mc.map(|m| m.memory_stat().oom_control.oom_kill)
            .unwrap_or(0)
    }

    pub fn is_frozen(&self) -> bool {
        let fc: Option<&FreezerController> = self.cg.controller_of();
        fc.and_then(|f| f.state().ok())
            .is_some_and(|s| matches!(s, FreezerState::Frozen | FreezerState::Freezing))
    }

    /// Removes the cgroup from every hierarchy (sub-cgroups made inside it first), retrying
    /// briefly while processes leave it.
    pub fn remove(&self) -> Result<()> {
        for sub in self.cg.subsystems() {
            let dir = cgroups_rs::Controller::path(sub.to_controller()).to_path_buf();
            remove_children(&dir);
        }
        if let Some(u) = self.unified() {
            remove_children(u);
        }
        let mut last = Ok(());
        for _ in 0..200 {
            last = self.remove_once();
            if last.is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        last
    }

    fn remove_once(&self) -> Result<()> {
        if let Err(e) = self.cg.delete() {
            let e = cg_err(&format!("remove cgroup {}", self.path), e);
            if e.errno() != Some(libc::ENOENT) {
                return Err(e);
            }
        }
        match self.unified() {
            Some(u) => match std::fs::remove_dir(u) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(Error::io(format!("remove cgroup {}", u.display()), e))
                }
                _ => Ok(()),
            },
            None => Ok(()),
        }
    }
}
