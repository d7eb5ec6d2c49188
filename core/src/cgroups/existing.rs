//! A container's cgroup that is there before create: runc refuses a frozen one (the init would
//! stop in it and create wait for it forever) and warns about one that already holds processes.

use super::Cgroupfs;
use crate::err;
use crate::error::{Error, Result};
use cgroups_rs::freezer::FreezerController;
use cgroups_rs::Controller;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

impl Cgroupfs {
    /// Looks at the container's cgroup before anything is made or joined: an error when a
    /// freezer would stop the init there, else the warnings (a cgroup with processes in it).
    pub fn check_existing(&self) -> Result<Vec<Error>> {
        if let Some(dir) = self.frozen_at() {
            return Err(err!(
                InvalidState,
                "container's cgroup unexpectedly frozen: {} is frozen (thaw it, or give \
                 another cgroupsPath)",
                dir.display()
            ));
        }
        let pids = self.existing_pids();
        let mut warnings = Vec::new();
        if !pids.is_empty() {
            warnings.push(err!(
                InvalidState,
                "container's cgroup is not empty: {} process(es) found",
                pids.len()
            ));
        }
        Ok(warnings)
    }

    /// Where the init would be frozen: the v1 freezer (the nearest existing directory's
    /// freezer.state tells a parent's freezing too), or a cgroup.freeze set on the directory
    /// or an ancestor in the cgroup2 tree (joined on hybrid hosts too).
    fn frozen_at(&self) -> Option<PathBuf> {
        let fc: Option<&FreezerController> = self.cg.controller_of();
        if let Some(dir) = fc.and_then(|f| nearest_existing(f.path())) {
            let state = std::fs::read_to_string(dir.join("freezer.state")).unwrap_or_default();
            if matches!(state.trim(), "FROZEN" | "FREEZING") {
                return Some(dir);
            }
        }
        let (dir, root) = if self.cg.v2() {
            (self.v2_dir(), crate::cgroups::mounts::hierarchy().root())
        } else {
            let (root, dir) = self.unified_at()?;
            (dir.clone(), root.clone())
        };
        dir.ancestors()
            .take_while(|a| a.starts_with(&root) && *a != root)
            .find(|a| {
                std::fs::read_to_string(a.join("cgroup.freeze")).is_ok_and(|t| t.trim() == "1")
            })
            .map(Path::to_path_buf)
    }

    /// The processes already in the container's cgroup directories, in any hierarchy.
    fn existing_pids(&self) -> BTreeSet<i32> {
        let mut dirs: Vec<PathBuf> = self
            .cg
            .subsystems()
            .iter()
            .map(|sub| sub.to_controller().path().to_path_buf())
            .collect();
        dirs.extend(self.unified().cloned());
        dirs.iter()
            .filter_map(|d| std::fs::read_to_string(d.join("cgroup.procs")).ok())
            .flat_map(|t| {
                t.lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect::<Vec<i32>>()
            })
            .collect()
    }
}

/// `dir`, or its nearest ancestor that exists.
fn nearest_existing(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().find(|a| a.is_dir()).map(Path::to_path_buf)
}
