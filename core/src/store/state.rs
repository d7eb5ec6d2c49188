//! `state.json`: what rune keeps about a container between invocations.

use crate::err;
use crate::error::{Context, Result};
use oci_spec::runtime::Spec;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::STATE_FILE;

/// The persistent record of one container. The status is never stored: it is derived from the
/// init process (alive, same start time) and the exec fifo each time it is asked for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub id: String,
    /// The init's pid in rune's pid namespace; 0 once it is known to be gone.
    pub init_pid: i32,
    /// The init's start time (field 22 of /proc/<pid>/stat), against pid reuse.
    pub init_start_time: u64,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    /// RFC 3339 creation time.
    pub created: String,
    /// The user who created the container.
    pub owner: String,
    #[serde(default)]
    pub annotations: HashMap<String, String>,
    /// The cgroup path (relative to each hierarchy's root) the container was put in.
    #[serde(default)]
    pub cgroup_path: Option<crate::cgroups::CgroupPath>,
    /// What the container's kind of workload keeps (an enclave's runtime under `enclave`;
    /// nothing for a native container), chosen at create (`crate::workload`).
    #[serde(flatten)]
    pub workload: crate::workload::Record,
    /// The config the container was created from (hooks, namespaces and exec defaults).
    pub config: Spec,
    /// True while `create` is still making the container: written before the cgroup exists,
    /// so a `delete --force` after a killed `create` finds (and removes) everything it made.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub incomplete: bool,
}

impl State {
    pub fn read(dir: &Path) -> Result<State> {
        let path = dir.join(STATE_FILE);
        let data = std::fs::read(&path).with_context(|| format!("read {}", path.display()))?;
        serde_json::from_slice(&data)
            .map_err(|e| err!(Internal, "corrupt state file {}: {}", path.display(), e))
    }

    /// Writes `state.json` (mode 0600: it holds the config, environment included) through a
    /// temporary file and `rename`, so readers never see half of it.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let data =
            serde_json::to_vec(self).map_err(|e| err!(Internal, "serialize state: {}", e))?;
        crate::files::write_atomic(&dir.join(STATE_FILE), &data, 0o600)
    }
}
