//! The cgroup hierarchies mounted in this mount namespace, as /proc/self/mountinfo lists them.

use std::path::PathBuf;

/// One visible cgroup (v1) or cgroup2 mount.
#[derive(Debug, Clone)]
pub struct CgroupMount {
    pub mount_point: PathBuf,
    /// "cgroup" or "cgroup2".
    pub fstype: String,
    /// The superblock options naming the hierarchy (`cpu`, `cpu,cpuacct`, `name=systemd`);
    /// empty for cgroup2.
    pub controllers: Vec<String>,
}

impl CgroupMount {
    /// The key of the hierarchy in /proc/<pid>/cgroup: its first controller, "" for cgroup2.
    pub fn key(&self) -> &str {
        if self.fstype == "cgroup2" {
            ""
        } else {
            self.controllers.first().map(String::as_str).unwrap_or("")
        }
    }
}

/// The cgroup mounts that are visible: a later mount at or above a mount point hides it (e.g.
/// cgroup2 mounted over /sys/fs/cgroup hides the v1 hierarchies below). Read once per process:
/// mountinfo lists every mount of the host, and costs with each (a rune process's cgroup work
/// is done in one view of the host's cgroup mounts: the host's, or an init's copy of it).
pub fn visible() -> Vec<CgroupMount> {
    static VISIBLE: std::sync::OnceLock<Vec<CgroupMount>> = std::sync::OnceLock::new();
    VISIBLE.get_or_init(read_visible).clone()
}

/// The cgroup v1 hierarchies as cgroups-rs finds them (which reads mountinfo too), once per
/// process as [`visible`]; cgroup2's on a v2 host.
pub fn hierarchy() -> Box<dyn cgroups_rs::Hierarchy> {
    static V1: std::sync::OnceLock<cgroups_rs::hierarchies::V1> = std::sync::OnceLock::new();
    match cgroups_rs::hierarchies::is_cgroup2_unified_mode() {
        true => Box::new(cgroups_rs::hierarchies::V2::new()),
        false => Box::new(V1.get_or_init(cgroups_rs::hierarchies::V1::new).clone()),
    }
}

fn read_visible() -> Vec<CgroupMount> {
    let mut out: Vec<CgroupMount> = Vec::new();
    for e in crate::mountinfo::read_own().unwrap_or_default() {
        out.retain(|m| !m.mount_point.starts_with(&e.mount_point));
        if e.fstype != "cgroup" && e.fstype != "cgroup2" {
            continue;
        }
        let controllers = e
            .super_options
            .split(',')
            .filter(|o| {
                !o.is_empty()
                    && !matches!(*o, "rw" | "ro")
                    && !o.starts_with("nsdelegate")
                    && !o.starts_with("memory_")
            })
            .map(String::from)
            .collect();
        out.push(CgroupMount {
            mount_point: e.mount_point,
            fstype: e.fstype,
            controllers,
        });
    }
    out
}
