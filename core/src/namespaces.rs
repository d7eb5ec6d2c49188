//! Which namespaces a container gets, who creates them (the host's clone or the init), and the
//! init's part: joining by path and unsharing.

use crate::err;
use crate::error::{Context, Error, Result};
use crate::sys::syscall::Syscall;
use oci_spec::runtime::LinuxNamespaceType;
use oci_spec::runtime::Spec;
use serde::{Deserialize, Serialize};
use std::os::fd::AsFd;
use std::path::PathBuf;

/// The namespace plan for a new container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// CLONE_NEW* flags for the host's clone.
    pub clone_flags: i32,
    /// Flags the init unshares itself.
    pub unshare_flags: i32,
    /// Namespaces the init joins by path.
    pub join: Vec<(NsType, PathBuf)>,
    /// The stage the first init process runs.
    pub stage: Stage,
}

/// A namespace type, with the names used in config.json.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NsType {
    User,
    Pid,
    Mount,
    Network,
    Ipc,
    Uts,
    Cgroup,
    Time,
}

impl NsType {
    pub fn flag(self) -> i32 {
        match self {
            NsType::User => libc::CLONE_NEWUSER,
            NsType::Pid => libc::CLONE_NEWPID,
            NsType::Mount => libc::CLONE_NEWNS,
            NsType::Network => libc::CLONE_NEWNET,
            NsType::Ipc => libc::CLONE_NEWIPC,
            NsType::Uts => libc::CLONE_NEWUTS,
            NsType::Cgroup => libc::CLONE_NEWCGROUP,
            NsType::Time => libc::CLONE_NEWTIME,
        }
    }

    /// The file name under /proc/<pid>/ns/.
    pub fn proc_name(self) -> &'static str {
        match self {
            NsType::User => "user",
            NsType::Pid => "pid",
            NsType::Mount => "mnt",
            NsType::Network => "net",
            NsType::Ipc => "ipc",
            NsType::Uts => "uts",
            NsType::Cgroup => "cgroup",
            NsType::Time => "time",
        }
    }

    pub fn from_spec(t: LinuxNamespaceType) -> NsType {
        match t {
            LinuxNamespaceType::User => NsType::User,
            LinuxNamespaceType::Pid => NsType::Pid,
            LinuxNamespaceType::Mount => NsType::Mount,
            LinuxNamespaceType::Network => NsType::Network,
            LinuxNamespaceType::Ipc => NsType::Ipc,
            LinuxNamespaceType::Uts => NsType::Uts,
            LinuxNamespaceType::Cgroup => NsType::Cgroup,
            LinuxNamespaceType::Time => NsType::Time,
        }
    }

    /// The order namespaces are joined in: user first, so the others are entered with its
    /// capabilities; mount last, so the paths of the others still resolve.
    pub const JOIN_ORDER: [NsType; 8] = [
        NsType::User,
        NsType::Ipc,
        NsType::Uts,
        NsType::Network,
        NsType::Pid,
        NsType::Cgroup,
        NsType::Time,
        NsType::Mount,
    ];
}

/// Which part of the work an init process is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Stage {
    /// Namespaces created by the host's clone: finish them and set the container up.
    Full,
    /// Join and create namespaces, fork the real init (the Setup stage) and exit.
    Namespaces,
    /// Namespaces are done: set the container (or exec'd process) up.
    Setup,
}

/// Every namespace listed in the config: new ones (no path) and joined ones.
pub fn listed(spec: &Spec) -> Vec<(NsType, Option<PathBuf>)> {
    spec.linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .map(|v| {
            v.iter()
                .map(|n| (NsType::from_spec(n.typ()), n.path().clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The namespace types listed in the config.
pub fn listed_types(spec: &Spec) -> Vec<NsType> {
    listed(spec).into_iter().map(|(t, _)| t).collect()
}

/// Puts namespaces to join in [`NsType::JOIN_ORDER`].
pub fn sort_for_joining<T>(join: &mut [(NsType, T)]) {
    join.sort_by_key(|(t, _)| NsType::JOIN_ORDER.iter().position(|o| o == t));
}

/// Decides the plan. The host's clone creates the namespaces when it can (the fast path: one
/// process, no extra fork). The init does it when a user or pid namespace is joined by path, a
/// time namespace is wanted, or a new user namespace must be made after joining others.
pub fn plan(spec: &Spec) -> Plan {
    let ns = listed(spec);
    let mut new = 0;
    let mut join = Vec::new();
    for (t, p) in &ns {
        match p {
            Some(p) => join.push((*t, p.clone())),
            None => new |= t.flag(),
        }
    }
    sort_for_joining(&mut join);
    let joins = |t: NsType| join.iter().any(|(j, _)| *j == t);
    let has_mount = ns.iter().any(|(t, _)| *t == NsType::Mount);
    let slow = joins(NsType::User)
        || joins(NsType::Pid)
        || new & libc::CLONE_NEWTIME != 0
        || (new & libc::CLONE_NEWUSER != 0 && !join.is_empty());
    if slow {
        Plan {
            clone_flags: if has_mount { libc::CLONE_NEWNS } else { 0 },
            unshare_flags: new,
            join,
            stage: Stage::Namespaces,
        }
    } else {
        let at_clone = new & !libc::CLONE_NEWCGROUP;
        Plan {
            clone_flags: at_clone | if has_mount { libc::CLONE_NEWNS } else { 0 },
            unshare_flags: new & libc::CLONE_NEWCGROUP,
            join,
            stage: Stage::Full,
        }
    }
}

/// Joins one namespace by path.
pub fn join(os: &dyn Syscall, t: NsType, path: &std::path::Path) -> Result<()> {
    let f = open(t, path)?;
    enter(os, t, &f, path)
}

/// Opens a namespace file, to enter it later (once the path may no longer resolve).
pub fn open(t: NsType, path: &std::path::Path) -> Result<std::fs::File> {
    std::fs::File::open(path)
        .with_context(|| format!("open {} namespace {}", t.proc_name(), path.display()))
}

/// setns into an opened namespace file; `path` names it in the error.
pub fn enter(os: &dyn Syscall, t: NsType, f: &std::fs::File, path: &std::path::Path) -> Result<()> {
    os.setns(f.as_fd(), t.flag(), &|| {
        format!("join {} namespace {}", t.proc_name(), path.display())
    })
}

pub fn unshare(os: &dyn Syscall, flags: i32) -> Result<()> {
    if flags == 0 {
        return Ok(());
    }
    os.unshare(flags, &|| {
        format!("unshare namespaces {}", flag_names(flags))
    })
}

/// Sets `hostname` and `domainname` of the config in the container's UTS namespace (an empty
/// one is left as it is).
pub fn set_names(os: &dyn Syscall, spec: &Spec) -> Result<()> {
    if let Some(h) = spec.hostname().as_deref().filter(|h| !h.is_empty()) {
        os.sethostname(h, &|| format!("set hostname {:?}", h))?;
    }
    if let Some(d) = spec.domainname().as_deref().filter(|d| !d.is_empty()) {
        os.setdomainname(d, &|| format!("set domainname {:?}", d))?;
    }
    Ok(())
}

pub fn flag_names(flags: i32) -> String {
    let all = [
        NsType::User,
        NsType::Pid,
        NsType::Mount,
        NsType::Network,
        NsType::Ipc,
        NsType::Uts,
        NsType::Cgroup,
        NsType::Time,
    ];
    all.iter()
        .filter(|t| flags & t.flag() != 0)
        .map(|t| t.proc_name())
        .collect::<Vec<_>>()
        .join(",")
}

/// Host root and the caller (the container's owner) as uids seen inside the container's user
/// namespace (themselves without one); a uid the mappings leave out is not listed, since it
/// shows as the overflow uid there, as every other unmapped user does.
pub fn peer_uids(spec: &Spec) -> Vec<u32> {
    let owner = crate::sys::euid();
    let mut host = vec![0, owner];
    host.dedup();
    if !listed_types(spec).contains(&NsType::User) {
        return host;
    }
    let maps = spec
        .linux()
        .as_ref()
        .and_then(|l| l.uid_mappings().clone())
        .unwrap_or_default();
    let mut inside: Vec<u32> = host
        .iter()
        .filter_map(|h| {
            maps.iter()
                .find(|m| *h >= m.host_id() && *h - m.host_id() < m.size())
                .map(|m| m.container_id() + (*h - m.host_id()))
        })
        .collect();
    inside.dedup();
    inside
}

/// The text of a uid_map or gid_map file: a line "inside outside count" per mapping.
pub fn map_text(maps: &[oci_spec::runtime::LinuxIdMapping]) -> String {
    maps.iter()
        .map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size()))
        .collect()
}

/// Writes the uid and gid maps of a process in a new user namespace (run by the host).
pub fn write_id_maps(pid: i32, spec: &Spec) -> Result<()> {
    let linux = spec
        .linux()
        .as_ref()
        .ok_or_else(|| err!(InvalidSpec, "config.json: linux is missing"))?;
    let uid = map_text(linux.uid_mappings().as_deref().unwrap_or_default());
    let gid = map_text(linux.gid_mappings().as_deref().unwrap_or_default());
    let rootless = crate::sys::euid() != 0;
    let many = |maps: &Option<Vec<oci_spec::runtime::LinuxIdMapping>>| {
        maps.as_ref()
            .is_some_and(|m| m.len() > 1 || m.iter().any(|x| x.size() > 1))
    };
    if rootless && (many(linux.uid_mappings()) || many(linux.gid_mappings())) {
        // More than the caller's own id: the setuid helpers check /etc/subuid and /etc/subgid.
        helper_map("newuidmap", pid, linux.uid_mappings())?;
        return helper_map("newgidmap", pid, linux.gid_mappings());
    }
    std::fs::write(format!("/proc/{}/uid_map", pid), uid.as_bytes())
        .with_context(|| format!("write uid_map {:?}", uid.trim()))?;
    if rootless {
        // An unprivileged process may map its own gid only once setgroups is denied.
        std::fs::write(format!("/proc/{}/setgroups", pid), b"deny")
            .context("write setgroups deny")?;
    }
    std::fs::write(format!("/proc/{}/gid_map", pid), gid.as_bytes())
        .with_context(|| format!("write gid_map {:?}", gid.trim()))?;
    Ok(())
}

/// newuidmap/newgidmap PID ID HOSTID SIZE ... (Debian's uidmap package).
fn helper_map(
    helper: &str,
    pid: i32,
    maps: &Option<Vec<oci_spec::runtime::LinuxIdMapping>>,
) -> Result<()> {
    let mut cmd = std::process::Command::new(helper);
    cmd.arg(pid.to_string());
    for m in maps.iter().flatten() {
        cmd.args([
            m.container_id().to_string(),
            m.host_id().to_string(),
            m.size().to_string(),
        ]);
    }
    let out = cmd.output().map_err(|e| {
        Error::io(
            format!(
                "run {} (needed for several id mappings without root; install uidmap)",
                helper
            ),
            e,
        )
    })?;
    if !out.status.success() {
        return Err(err!(
            PermissionDenied,
            "{} failed: {}",
            helper,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// Writes `linux.timeOffsets` (monotonic, boottime) for the time namespace this process just
/// unshared; its children see them.
pub fn write_time_offsets(spec: &Spec) -> Result<()> {
    let offsets = match spec
        .linux()
        .as_ref()
        .and_then(|l| l.time_offsets().as_ref())
    {
        Some(o) if !o.is_empty() => o,
        _ => return Ok(()),
    };
    let mut text = String::new();
    for (clock, off) in offsets {
        if clock != "monotonic" && clock != "boottime" {
            return Err(err!(
                InvalidSpec,
                "config.json: unknown timeOffsets clock {:?}",
                clock
            ));
        }
        text.push_str(&format!(
            "{} {} {}\n",
            clock,
            off.secs().unwrap_or(0),
            off.nanosecs().unwrap_or(0)
        ));
    }
    std::fs::write("/proc/self/timens_offsets", text.as_bytes())
        .with_context(|| format!("write time namespace offsets {:?}", text.trim()))
}

#[cfg(test)]
#[path = "namespaces_tests.rs"]
pub(crate) mod tests;
