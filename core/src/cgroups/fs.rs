//! The cgroupfs driver: the container's cgroup made, filled and removed through cgroups-rs in
//! every hierarchy (cgroup v1, v2 and the hybrid layout), limits written to the files. The
//! systemd driver uses it too, inside the unit's delegated cgroup.

use super::{mounts, CgroupPath};
use crate::err;
use crate::error::{Error, Result};
use cgroups_rs::cgroup::Cgroup;
use cgroups_rs::freezer::{FreezerController, FreezerState};
use cgroups_rs::memory::MemController;
use cgroups_rs::{CgroupPid, Controller};
use oci_spec::runtime::{LinuxResources, Spec};
use std::path::PathBuf;

/// A container's cgroup.
pub struct Cgroupfs {
    pub(super) cg: Cgroup,
    path: CgroupPath,
    /// On the hybrid layout, the container's directory in the cgroup2 tree, which runc joins
    /// too (no limits there; it groups the processes for tools such as systemd).
    /// Found when first needed: most uses (status, stats) never need it.
    /// (the cgroup2 mount, the container's directory in it)
    unified: std::cell::OnceCell<Option<(PathBuf, PathBuf)>>,
}

impl Cgroupfs {
    /// Creates the cgroup in every hierarchy.
    pub fn create(path: &CgroupPath) -> Result<Cgroupfs> {
        let m = Cgroupfs::load(path);
        m.make()?;
        Ok(m)
    }

    /// Makes the cgroup's directories in every hierarchy; on failure, removes what it made.
    pub fn make(&self) -> Result<()> {
        let m = self;
        let path = &self.path;
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
        Ok(())
    }

    /// A handle on an existing cgroup.
    pub fn load(path: &CgroupPath) -> Cgroupfs {
        let hier = crate::cgroups::mounts::hierarchy();
        let cg = if path.parents.is_empty() {
            Cgroup::load(hier, &path.path)
        } else {
            Cgroup::load_with_relative_paths(hier, &path.path, path.parents.clone())
        };
        Cgroupfs {
            cg,
            path: path.clone(),
            unified: Default::default(),
        }
    }

    /// The cgroup's directory on a v2 host.
    pub(super) fn v2_dir(&self) -> PathBuf {
        crate::cgroups::mounts::hierarchy()
            .root()
            .join(self.path.path.trim_start_matches('/'))
    }

    pub(super) fn unified(&self) -> Option<&PathBuf> {
        self.unified_at().map(|(_, dir)| dir)
    }

    /// On the hybrid layout: where cgroup2 is mounted and the container's directory there.
    pub(super) fn unified_at(&self) -> Option<&(PathBuf, PathBuf)> {
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
            super::devices::apply(dc, spec)?;
        } else if self.cg.v2() {
            super::devices_bpf::attach(&self.v2_dir(), spec)?;
        }
        if let Some(res) = spec.linux().as_ref().and_then(|l| l.resources().as_ref()) {
            self.apply(res)?;
        }
        Ok(())
    }

    /// Applies `linux.resources`; each failure names the limit.
    pub fn apply(&self, res: &LinuxResources) -> Result<()> {
        super::limits::apply(&self.cg, res)
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
        super::stats::collect(&self.cg)
    }

    /// The OOM kill count of the memory cgroup (v1 memory.oom_control, v2 memory.events).
    pub fn oom_kills(&self) -> u64 {
        let mc: Option<&MemController> = self.cg.controller_of();
        match mc {
            // cgroups-rs reads memory.oom_control alone, which v2 does not have.
            Some(m) if self.cg.v2() => {
                let events = std::fs::read_to_string(m.path().join("memory.events"));
                oom_kill_of_events(&events.unwrap_or_default())
            }
            Some(m) => m.memory_stat().oom_control.oom_kill,
            None => 0,
        }
    }

    pub fn is_frozen(&self) -> bool {
        let fc: Option<&FreezerController> = self.cg.controller_of();
        fc.and_then(|f| f.state().ok())
            .is_some_and(|s| matches!(s, FreezerState::Frozen | FreezerState::Freezing))
    }

    /// Removes the cgroup from every hierarchy (sub-cgroups made inside it first), retrying
    /// briefly while processes leave it.
    /// Removes the cgroup at once if nothing is left in it (no process, no child cgroup), as
    /// after its container's init ended: one rmdir per directory, no listing, no retry. False
    /// when something is still there (what could be removed is gone): `remove` does the rest.
    pub fn remove_if_empty(&self) -> bool {
        let subs = self.cg.subsystems().iter();
        let mut dirs = subs.map(|s| cgroups_rs::Controller::path(s.to_controller()).to_path_buf());
        let gone = |d: &std::path::Path| match std::fs::remove_dir(d) {
            Ok(()) => true,
            Err(e) => e.kind() == std::io::ErrorKind::NotFound,
        };
        dirs.all(|d| gone(&d)) && self.unified().is_none_or(|u| gone(u))
    }

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

/// The `oom_kill` count of a v2 memory.events.
fn oom_kill_of_events(text: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix("oom_kill ")?.trim().parse().ok())
        .unwrap_or(0)
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

fn cg_err(what: &str, e: cgroups_rs::error::Error) -> Error {
    let errno = std::error::Error::source(&e)
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .and_then(|io| io.raw_os_error());
    let msg = format!("{}: {}", what, e);
    Error::new(crate::ErrorKind::Os, msg).with_errno(errno)
}

#[cfg(test)]
mod tests {
    #[test]
    fn v2_oom_kills_come_from_memory_events() {
        let events = "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n";
        assert_eq!(super::oom_kill_of_events(events), 2);
        assert_eq!(super::oom_kill_of_events("oom 1\n"), 0);
        assert_eq!(super::oom_kill_of_events(""), 0);
    }
}
