//! Leak checks run at the end of tests, and cgroup path helpers.

use crate::{Bundle, Rune};
use std::path::{Path, PathBuf};

/// A mounted cgroup hierarchy.
#[derive(Debug, Clone)]
pub struct CgroupMount {
    /// Where it is mounted (`/sys/fs/cgroup/memory`).
    pub mountpoint: PathBuf,
    /// Controllers as in /proc/self/cgroup (`memory`, `name=systemd`, `""` for v2).
    pub controllers: String,
}

const V1_CONTROLLERS: &[&str] = &[
    "cpu",
    "cpuacct",
    "cpuset",
    "memory",
    "devices",
    "freezer",
    "net_cls",
    "blkio",
    "perf_event",
    "net_prio",
    "hugetlb",
    "pids",
    "rdma",
    "misc",
];

/// All cgroup (v1 and v2) mounts of this mount namespace.
pub fn cgroup_mounts() -> Vec<CgroupMount> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut out = Vec::new();
    for line in info.lines() {
        let Some((pre, post)) = line.split_once(" - ") else {
            continue;
        };
        let mut post = post.split_whitespace();
        let (Some(fstype), _, Some(superopts)) = (post.next(), post.next(), post.next()) else {
            continue;
        };
        let Some(mountpoint) = pre.split_whitespace().nth(4) else {
            continue;
        };
        let controllers = match fstype {
            "cgroup2" => String::new(),
            "cgroup" => {
                let mut c: Vec<&str> = superopts
                    .split(',')
                    .filter(|o| V1_CONTROLLERS.contains(o) || o.starts_with("name="))
                    .collect();
                c.sort_unstable();
                c.join(",")
            }
            _ => continue,
        };
        out.push(CgroupMount {
            mountpoint: PathBuf::from(mountpoint),
            controllers,
        });
    }
    out
}

/// This process's cgroup in the hierarchy with `controllers` (from /proc/self/cgroup).
pub fn own_cgroup(controllers: &str) -> String {
    let text = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, Some(ctrl), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let mut c: Vec<&str> = ctrl.split(',').filter(|s| !s.is_empty()).collect();
        c.sort_unstable();
        if c.join(",") == controllers {
            return path.to_string();
        }
    }
    "/".to_string()
}

/// Where a container with `linux.cgroupsPath = path` has (or would have) its
/// cgroup directory in every mounted hierarchy: an absolute path is taken from
/// each hierarchy's root, a relative one from this process's own cgroup.
pub fn cgroup_dirs_for(path: &str) -> Vec<PathBuf> {
    cgroup_mounts()
        .into_iter()
        .map(|m| {
            if path.starts_with('/') {
                m.mountpoint.join(path.trim_start_matches('/'))
            } else {
                let own = own_cgroup(&m.controllers);
                m.mountpoint.join(own.trim_start_matches('/')).join(path)
            }
        })
        .collect()
}

/// The cgroup directory of `path` in one v1 controller (`memory`, `pids`, ...).
pub fn cgroup_dir(controller: &str, path: &str) -> PathBuf {
    let m = cgroup_mounts()
        .into_iter()
        .find(|m| m.controllers.split(',').any(|c| c == controller))
        .unwrap_or_else(|| panic!("cgroup controller {controller} is not mounted"));
    if path.starts_with('/') {
        m.mountpoint.join(path.trim_start_matches('/'))
    } else {
        let own = own_cgroup(&m.controllers);
        m.mountpoint.join(own.trim_start_matches('/')).join(path)
    }
}

/// Assert that nothing of container `b` is left: no state dir `<root>/<id>`,
/// no cgroup directory for its cgroupsPath in any hierarchy, and `pid` (its
/// init, if known) no longer running. Conditions are polled for a while
/// because teardown may finish asynchronously.
#[track_caller]
pub fn assert_no_leaks(rune: &Rune, b: &Bundle, pid: Option<i32>) {
    let state_dir = rune.root().join(&b.id);
    let cgroups: Vec<PathBuf> = b
        .cgroups_path_value()
        .map(|p| cgroup_dirs_for(&p))
        .unwrap_or_default();
    let leftovers = || -> Vec<String> {
        let mut v = Vec::new();
        if state_dir.exists() {
            v.push(format!("state dir {state_dir:?} still exists"));
        }
        for d in &cgroups {
            if Path::new(d).exists() {
                v.push(format!("cgroup dir {d:?} still exists"));
            }
        }
        if let Some(pid) = pid {
            if crate::pid_alive(pid) {
                v.push(format!("container init pid {pid} still running"));
            }
        }
        v
    };
    crate::wait_until(crate::POLL_TIMEOUT, || leftovers().is_empty());
    let left = leftovers();
    assert!(
        left.is_empty(),
        "container {} leaked: {}",
        b.id,
        left.join("; ")
    );
}
