//! `kill`: signals the init, or with `all` every process of the container's cgroup.

use super::Container;
use crate::err;
use crate::error::{Error, Result};

impl Container {
    /// Signals the init, or with `all` every process in the container's cgroup. With `all`, a
    /// stopped container is not an error (what is left of it is signalled), as with runc:
    /// containerd sends `kill --all` when it removes any container. The error otherwise reads
    /// "container not running", the words containerd's shim looks for.
    pub fn kill(&self, sig: i32, all: bool) -> Result<()> {
        let status = self.status();
        if !status.can_kill() && !all {
            return Err(err!(InvalidState, "container not running: {}", self.id()));
        }
        if all {
            if let Some(path) = &self.state.cgroup_path {
                for pid in crate::cgroups::manager(path).pids() {
                    let _ = crate::sys::signal::kill(pid, sig);
                }
                return Ok(());
            }
            if !status.can_kill() {
                return Ok(());
            }
        }
        // The kind of workload may deliver it itself (an enclave's entrypoint, through
        // pal_kill).
        let dir = self.store.dir_of(self.id());
        let handler = crate::workload::handler(&self.state.workload)?;
        if let Some(r) = handler.signal(&self.at(&dir, status), sig) {
            return r;
        }
        // The pid was checked alive with its start time.
        crate::sys::signal::kill(self.state.init_pid, sig)
            .map_err(|e| Error::io(format!("kill container {}", self.id()), e))
    }
}
