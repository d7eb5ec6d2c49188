//! `pause` and `resume`: the freezer cgroup.

use super::{Container, Status};
use crate::cgroups::{self, CgroupManager};
use crate::err;
use crate::error::Result;

impl Container {
    fn cgroup(&self) -> Result<Box<dyn CgroupManager>> {
        self.state
            .cgroup_path
            .as_ref()
            .map(cgroups::manager)
            .ok_or_else(|| err!(InvalidState, "container {} has no cgroup", self.id()))
    }

    pub fn pause(&self) -> Result<()> {
        let _lock = self.store.lock(self.id())?;
        match self.status() {
            Status::Running | Status::Created => self.cgroup()?.freeze(),
            s => Err(err!(
                InvalidState,
                "cannot pause a container that is {}",
                s.as_str()
            )),
        }
    }

    pub fn resume(&self) -> Result<()> {
        let _lock = self.store.lock(self.id())?;
        match self.status() {
            Status::Paused => self.cgroup()?.thaw(),
            s => Err(err!(
                InvalidState,
                "cannot resume a container that is {}: it is not paused",
                s.as_str()
            )),
        }
    }

    /// runc's `events --stats` document for this container.
    pub fn stats(&self) -> Result<serde_json::Value> {
        if self.status() == Status::Stopped {
            return Err(err!(InvalidState, "container {} is not running", self.id()));
        }
        Ok(serde_json::json!({"type": "stats", "id": self.id(), "data": self.cgroup()?.stats()}))
    }

    /// How many processes of the container the OOM killer has killed so far.
    pub fn oom_kills(&self) -> u64 {
        self.cgroup().map(|c| c.oom_kills()).unwrap_or(0)
    }
}
