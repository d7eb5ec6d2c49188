//! `update`: changes the resource limits of a running container and records them.

use super::{Container, Status};
use crate::err;
use crate::error::Result;
use oci_spec::runtime::LinuxResources;

impl Container {
    pub fn update(&mut self, res: &LinuxResources) -> Result<()> {
        let dir = self.store.lock(self.id())?;
        self.state = dir.read_state()?;
        if self.status() == Status::Stopped {
            // runc's ErrNotRunning, as kill says it.
            return Err(err!(InvalidState, "container not running: {}", self.id()));
        }
        let path = self
            .state
            .cgroup_path
            .as_ref()
            .ok_or_else(|| err!(InvalidState, "container {} has no cgroup", self.id()))?;
        crate::cgroups::manager(path).update(res)?;
        let merged = merge(
            self.state
                .config
                .linux()
                .as_ref()
                .and_then(|l| l.resources().clone()),
            res,
        );
        if let Some(linux) = self.state.config.linux_mut() {
            linux.set_resources(Some(merged));
        }
        dir.write_state(&self.state)
    }
}

/// The recorded resources with the updated parts replaced.
fn merge(old: Option<LinuxResources>, new: &LinuxResources) -> LinuxResources {
    let mut r = old.unwrap_or_default();
    if new.memory().is_some() {
        r.set_memory(*new.memory());
    }
    if new.cpu().is_some() {
        r.set_cpu(new.cpu().clone());
    }
    if new.pids().is_some() {
        r.set_pids(*new.pids());
    }
    if new.block_io().is_some() {
        r.set_block_io(new.block_io().clone());
    }
    r
}
