//! `delete`: removes a stopped (or, forced, a running) container: its processes, cgroup and
//! state, then runs the poststop hooks.

use super::{oci_state_value, Container, Status};
use crate::cgroups::{self, CgroupManager};
use crate::err;
use crate::error::Result;
use crate::hooks::{self, Point};
use crate::process::wait_gone;
use crate::store::{not_found, Store};
use std::time::Duration;

impl Container {
    /// Deletes container `id`. A created container is killed first (as runc does); a running
    /// or paused one only with `force`.
    /// Returns the warnings of what failed without stopping the deletion (poststop hooks,
    /// moving network devices back).
    pub fn delete(store: &Store, id: &str, force: bool) -> Result<Vec<crate::Error>> {
        let mut warnings = Vec::new();
        let dir = match store.lock(id) {
            Ok(d) => d,
            Err(e) if e.kind() == crate::ErrorKind::NotFound => return Err(not_found(id)),
            Err(e) => return Err(e),
        };
        let state = match dir.read_state() {
            Ok(s) => s,
            // A directory without state is the remains of a failed create.
            Err(e) if e.kind() == crate::ErrorKind::NotFound => {
                return dir.remove().map(|_| warnings)
            }
            Err(e) => return Err(e),
        };
        let c = Container {
            store: store.clone(),
            state,
        };
        let status = c.status();
        match status {
            Status::Stopped | Status::Created => {}
            _ if force => {}
            _ => {
                return Err(err!(
                    InvalidState,
                    "cannot delete container {} that is not stopped: {}",
                    id,
                    status.as_str()
                ))
            }
        }
        let mut cg = c.state.cgroup_path.as_ref().map(cgroups::manager);
        // A stopped container's cgroup is empty as a rule (its init ended, and with it the
        // processes of its pid namespace): removed at once, without listing processes and
        // child cgroups first. Anything left there takes the full way below.
        if status == Status::Stopped && cg.as_ref().is_some_and(|cg| cg.remove_if_empty()) {
            cg = None;
        }
        if status != Status::Stopped {
            // Host devices go back before the namespace (and virtual peers with it) goes away.
            if let Err(e) = crate::netdev::move_out(&c.state.config, c.state.init_pid) {
                warnings.push(e);
            }
            // The init was checked alive with its start time.
            let _ = crate::sys::signal::kill(c.state.init_pid, libc::SIGKILL);
        }
        if let Some(cg) = &cg {
            kill_all(cg.as_ref());
            if status == Status::Paused {
                // Frozen processes die only once thawed.
                let _ = cg.thaw();
            }
        }
        wait_gone(
            c.state.init_pid,
            c.state.init_start_time,
            Duration::from_secs(10),
        );
        if let Some(cg) = &cg {
            kill_all(cg.as_ref());
            warnings.extend(cg.remove()?);
        }
        // The remains of a killed `create` had no hooks run for them: none to undo.
        let poststop = if c.state.incomplete {
            Vec::new()
        } else {
            let json = oci_state_value(&c.state, Status::Stopped, 0).to_string();
            hooks::run_all(Point::Poststop, &Point::Poststop.of(&c.state.config), &json)
        };
        dir.remove()?;
        warnings.extend(poststop);
        Ok(warnings)
    }
}

/// SIGKILLs what is left in the cgroup (processes of a container without its own pid
/// namespace, or stragglers); a frozen cgroup is thawed so they can die.
fn kill_all(cg: &dyn CgroupManager) {
    for pid in cg.pids() {
        let _ = crate::sys::signal::kill(pid, libc::SIGKILL);
    }
}
