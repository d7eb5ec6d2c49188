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
/// On a pure v2 host every controller is the unified tree's (`""`).
pub fn own_cgroup(controllers: &str) -> String {
    let controllers = if CgroupHost::probe().is_v2() {
        ""
    } else {
        controllers
    };
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
        .map(|m| dir_in(&m, path))
        .collect()
}

/// `path` in the hierarchy `m`: absolute from its root; relative below this process's own
/// cgroup there, or on a pure v2 host below that cgroup's parent (runc's rule there: the own
/// cgroup holds processes, so could not give its children controllers).
fn dir_in(m: &CgroupMount, path: &str) -> PathBuf {
    if path.starts_with('/') {
        return m.mountpoint.join(path.trim_start_matches('/'));
    }
    let base = relative_base(&m.controllers);
    m.mountpoint.join(base.trim_start_matches('/')).join(path)
}

/// The cgroup a relative cgroupsPath goes below in the hierarchy of `controllers`: this
/// process's own ([`own_cgroup`]), or on a pure v2 host its parent (as runc places it).
pub fn relative_base(controllers: &str) -> String {
    let own = own_cgroup(controllers);
    if !CgroupHost::probe().is_v2() {
        return own;
    }
    match own.trim_end_matches('/').rsplit_once('/') {
        Some((parent, _)) if !parent.is_empty() => parent.to_string(),
        _ => "/".to_string(),
    }
}

/// The cgroup layout of this host, probed once from the cgroup mounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupHost {
    /// v1 hierarchies alone.
    V1,
    /// v1 hierarchies plus a cgroup2 tree without controllers (/sys/fs/cgroup/unified).
    Hybrid,
    /// Pure cgroup v2: one unified tree holds every controller.
    V2,
}

impl CgroupHost {
    /// This host's layout.
    pub fn probe() -> CgroupHost {
        static HOST: std::sync::OnceLock<CgroupHost> = std::sync::OnceLock::new();
        *HOST.get_or_init(|| {
            let mounts = cgroup_mounts();
            let v1 = mounts.iter().any(|m| !m.controllers.is_empty());
            let v2 = mounts.iter().any(|m| m.controllers.is_empty());
            match (v1, v2) {
                (true, true) => CgroupHost::Hybrid,
                (true, false) => CgroupHost::V1,
                _ => CgroupHost::V2,
            }
        })
    }

    /// Pure cgroup v2.
    pub fn is_v2(self) -> bool {
        self == CgroupHost::V2
    }

    /// `v1` on a v1 or hybrid host, `v2` on a pure v2 host (a file name, a value).
    pub fn pick<T>(self, v1: T, v2: T) -> T {
        if self.is_v2() {
            v2
        } else {
            v1
        }
    }
}

/// Shorthand for [`CgroupHost::probe`]`().is_v2()`.
pub fn cgroup_v2() -> bool {
    CgroupHost::probe().is_v2()
}

/// cgroup v1 `cpu.shares` as the v2 `cpu.weight` runc writes for it.
pub fn cpu_weight_of_shares(shares: u64) -> u64 {
    1 + ((shares.clamp(2, 262144) - 2) * 9999) / 262142
}

/// The cgroup directory of `path` for one controller (`memory`, `pids`, ...): its v1
/// hierarchy, or the unified tree on a pure v2 host; `""` names the cgroup2 tree (the hybrid
/// layout's /sys/fs/cgroup/unified, or the v2 host's /sys/fs/cgroup).
pub fn cgroup_dir(controller: &str, path: &str) -> PathBuf {
    let mounts = cgroup_mounts();
    let v1 = mounts
        .iter()
        .find(|m| !controller.is_empty() && m.controllers.split(',').any(|c| c == controller));
    let m = match v1 {
        Some(m) => m,
        None if controller.is_empty() || CgroupHost::probe().is_v2() => mounts
            .iter()
            .find(|m| m.controllers.is_empty())
            .expect("cgroup2 is not mounted"),
        None => panic!("cgroup controller {controller} is not mounted"),
    };
    dir_in(m, path)
}

/// Whether the kernel accounts swap per cgroup (v1's memory.memsw.* or v2's memory.swap.max;
/// absent with swapaccount=0 or without CONFIG_MEMCG_SWAP): only then is a swap limit possible.
pub fn swap_accounting() -> bool {
    let file = CgroupHost::probe().pick("memory.memsw.limit_in_bytes", "memory.swap.max");
    cgroup_has_file("memory", file)
}

/// Makes the cgroup directory of `path` for `controller` (see [`cgroup_dir`]) as a test's
/// setup: on cgroup v2 each parent on the way delegates its controllers to its children
/// (`cgroup.subtree_control`), so the new cgroup has the controllers' files.
pub fn make_cgroup_dir(controller: &str, path: &str) -> PathBuf {
    let dir = cgroup_dir(controller, path);
    if CgroupHost::probe().is_v2() {
        let root = cgroup_dir("", "/");
        let rel = dir.strip_prefix(&root).expect("below the cgroup2 root");
        let mut cur = root.clone();
        for c in rel.components() {
            let avail = std::fs::read_to_string(cur.join("cgroup.controllers")).unwrap_or_default();
            for ctrl in avail.split_whitespace() {
                let _ = std::fs::write(cur.join("cgroup.subtree_control"), format!("+{ctrl}"));
            }
            cur.push(c);
            let _ = std::fs::create_dir(&cur);
        }
    }
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {dir:?}: {e}"));
    dir
}

/// Whether a new cgroup gets `file` of `controller` on this host (a kernel feature:
/// `cpu.rt_runtime_us`, `cpu.max.burst`, `memory.swap.max`, `hugetlb.2MB.max`, ...): probed in
/// a throw-away child of the controller's root, where v2 shows the controller's files only if
/// the root delegates it (as systemd does).
pub fn cgroup_has_file(controller: &str, file: &str) -> bool {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = cgroup_dir(
        controller,
        &format!("/rune-probe-{}-{n}", std::process::id()),
    );
    if std::fs::create_dir(&dir).is_err() {
        return false;
    }
    let has = dir.join(file).exists();
    let _ = std::fs::remove_dir(&dir);
    has
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
