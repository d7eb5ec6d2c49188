//! Writing `linux.resources` to a container's cgroup. cgroups-rs finds the controllers;
//! values go to the controller files directly so every failure names the file and the value,
//! and a controller or file the host lacks is an error only when the config sets its value
//! (runc's rule: skipped when unset, a clear error when set).

use crate::err;
use crate::error::{Error, Result};
use cgroups_rs::cgroup::Cgroup;
use cgroups_rs::hugetlb::HugeTlbController;
use cgroups_rs::net_cls::NetClsController;
use cgroups_rs::net_prio::NetPrioController;
use cgroups_rs::pid::PidController;
use cgroups_rs::Controller;
use oci_spec::runtime::LinuxResources;
use std::path::Path;

mod blkio;
mod cpu;
mod memory;

use blkio::blkio;
use cpu::cpu;
use memory::memory;

/// Writes `value` to `<dir>/<file>`.
fn write(dir: &Path, file: &str, value: &str) -> Result<()> {
    use std::io::Write;
    let p = dir.join(file);
    // No O_CREAT: cgroupfs answers EACCES for a missing file then, not ENOENT.
    let r = std::fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .and_then(|mut f| f.write_all(value.as_bytes()));
    r.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            err!(
                InvalidSpec,
                "cgroup: {} does not exist on this host (the kernel lacks this limit)",
                p.display()
            )
        } else {
            // runc's words: `failed to write "V": write PATH: ERROR`.
            Error::io(
                format!("failed to write {:?}: write {}", value, p.display()),
                e,
            )
        }
    })
}

fn missing(ctrl: &str, what: &str) -> Error {
    err!(
        InvalidSpec,
        "{} is set but the {} cgroup controller is not available to rune on this host",
        what,
        ctrl
    )
}

/// runc treats 0 as "not set" for most limits (Docker sends zeros for what it leaves alone).
fn nz<T: Default + PartialEq>(v: Option<T>) -> Option<T> {
    v.filter(|x| *x != T::default())
}

fn v2(cg: &Cgroup) -> bool {
    cg.v2()
}

pub fn apply(cg: &Cgroup, res: &LinuxResources) -> Result<()> {
    super::ranges::check(res)?;
    memory(cg, res)?;
    cpu(cg, res)?;
    pids(cg, res)?;
    blkio(cg, res)?;
    hugetlb(cg, res)?;
    network(cg, res)?;
    if res.rdma().as_ref().is_some_and(|r| !r.is_empty()) {
        return Err(missing("rdma", "linux.resources.rdma"));
    }
    if let Some(u) = res.unified().as_ref().filter(|u| !u.is_empty()) {
        super::check_unified(res)?;
        let dir = crate::cgroups::mounts::hierarchy().root().join(cg.path());
        for (k, v) in u {
            write(&dir, k, v)?;
        }
    }
    Ok(())
}

fn pids(cg: &Cgroup, res: &LinuxResources) -> Result<()> {
    if let Some(p) = res.pids().filter(|p| p.limit() != 0) {
        let pc: &PidController = cg
            .controller_of()
            .ok_or_else(|| missing("pids", "a pids limit"))?;
        let v = if p.limit() > 0 {
            p.limit().to_string()
        } else {
            "max".into()
        };
        write(pc.path(), "pids.max", &v)?;
    }
    Ok(())
}

fn hugetlb(cg: &Cgroup, res: &LinuxResources) -> Result<()> {
    let limits = match res.hugepage_limits().as_ref().filter(|l| !l.is_empty()) {
        Some(l) => l,
        None => return Ok(()),
    };
    let hc: &HugeTlbController = cg.controller_of().ok_or_else(|| {
        missing(
            "hugetlb",
            "linux.resources.hugepageLimits (the container's cgroup has no hugetlb controller: \
             this host mounts none, or, hybrid, only in the cgroup2 hierarchy)",
        )
    })?;
    for l in limits {
        let file = if v2(cg) {
            format!("hugetlb.{}.max", l.page_size())
        } else {
            format!("hugetlb.{}.limit_in_bytes", l.page_size())
        };
        write(hc.path(), &file, &l.limit().to_string())?;
    }
    Ok(())
}

fn network(cg: &Cgroup, res: &LinuxResources) -> Result<()> {
    let n = match res.network() {
        Some(n) => n,
        None => return Ok(()),
    };
    if let Some(id) = n.class_id() {
        let c: &NetClsController = cg
            .controller_of()
            .ok_or_else(|| missing("net_cls", "linux.resources.network.classID"))?;
        write(c.path(), "net_cls.classid", &id.to_string())?;
    }
    if let Some(prios) = n.priorities().as_ref().filter(|p| !p.is_empty()) {
        let c: &NetPrioController = cg
            .controller_of()
            .ok_or_else(|| missing("net_prio", "linux.resources.network.priorities"))?;
        for p in prios {
            write(
                c.path(),
                "net_prio.ifpriomap",
                &format!("{} {}", p.name(), p.priority()),
            )?;
        }
    }
    Ok(())
}
