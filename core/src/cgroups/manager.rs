//! The one interface the rest of rune uses for a container's cgroup, whichever driver made it:
//! create, exec, kill, pause, status, update, delete and the CLI's ps load it from the state's
//! `CgroupPath` (`manager`), which records the driver, and never branch on it.

use super::{systemd::Systemd, CgroupPath, Cgroupfs};
use crate::error::{Error, Result};
use oci_spec::runtime::{LinuxResources, Spec};

/// A container's cgroup, made by one driver (cgroupfs or systemd).
pub trait CgroupManager {
    /// Before the init exists: refuses a cgroup that would freeze the init, makes what can be
    /// made without a process, and returns what the caller should warn about. `Ok(None)`: no
    /// cgroup at all (rootless without a delegated cgroup, and no limits asked for).
    fn prepare(&self, spec: &Spec) -> Result<Option<Vec<Error>>>;
    /// Puts the container's init in the cgroup and applies the config's devices and limits.
    fn enter(&self, pid: i32, spec: &Spec) -> Result<()>;
    /// Adds another process (exec).
    fn add(&self, pid: i32) -> Result<()>;
    /// Changes the limits (update).
    fn update(&self, res: &LinuxResources) -> Result<()>;
    /// The processes in the cgroup.
    fn pids(&self) -> Vec<i32>;
    fn freeze(&self) -> Result<()>;
    fn thaw(&self) -> Result<()>;
    fn is_frozen(&self) -> bool;
    /// runc's `types.Stats` for `events`.
    fn stats(&self) -> serde_json::Value;
    /// The OOM kill count of the memory cgroup.
    fn oom_kills(&self) -> u64;
    /// Removes the cgroup (its processes must be gone); returns what failed without stopping
    /// the removal.
    fn remove(&self) -> Result<Vec<Error>>;
    /// Removes the cgroup at once if it is empty (no process, no child cgroup); false when
    /// something is left, or the driver has more to undo than the directories: then `remove`.
    fn remove_if_empty(&self) -> bool {
        false
    }
}

/// The manager of the cgroup at `path`, by the driver that made it.
pub fn manager(path: &CgroupPath) -> Box<dyn CgroupManager> {
    match &path.systemd {
        Some(unit) => Box::new(Systemd::new(path, unit.clone())),
        None => Box::new(Cgroupfs::load(path)),
    }
}

impl CgroupManager for Cgroupfs {
    fn prepare(&self, spec: &Spec) -> Result<Option<Vec<Error>>> {
        let warnings = self.check_existing()?;
        // Cgroupfs::make removes what it made when it fails.
        match self.make() {
            Ok(()) => Ok(Some(warnings)),
            // Rootless without a delegated cgroup: run without one, unless limits were asked.
            Err(_) if crate::sys::euid() != 0 && !super::has_limits(spec) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn enter(&self, pid: i32, spec: &Spec) -> Result<()> {
        Cgroupfs::add(self, pid)?;
        self.apply_spec(spec)
    }

    fn add(&self, pid: i32) -> Result<()> {
        Cgroupfs::add(self, pid)
    }

    fn update(&self, res: &LinuxResources) -> Result<()> {
        self.apply(res)
    }

    fn pids(&self) -> Vec<i32> {
        Cgroupfs::pids(self)
    }

    fn freeze(&self) -> Result<()> {
        Cgroupfs::freeze(self)
    }

    fn thaw(&self) -> Result<()> {
        Cgroupfs::thaw(self)
    }

    fn is_frozen(&self) -> bool {
        Cgroupfs::is_frozen(self)
    }

    fn stats(&self) -> serde_json::Value {
        Cgroupfs::stats(self)
    }

    fn oom_kills(&self) -> u64 {
        Cgroupfs::oom_kills(self)
    }

    fn remove(&self) -> Result<Vec<Error>> {
        Cgroupfs::remove(self).map(|()| Vec::new())
    }

    fn remove_if_empty(&self) -> bool {
        Cgroupfs::remove_if_empty(self)
    }
}
