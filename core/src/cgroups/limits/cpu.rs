//! The cpu and cpuset controllers: shares, CFS quota and period, burst, realtime, idle, cpus/mems.

use super::{missing, nz, v2, write};
use crate::error::Result;
use cgroups_rs::cgroup::Cgroup;
use cgroups_rs::cpu::CpuController;
use cgroups_rs::cpuset::CpuSetController;
use cgroups_rs::Controller;
use oci_spec::runtime::LinuxResources;
use std::path::Path;

pub(super) fn cpu(cg: &Cgroup, res: &LinuxResources) -> Result<()> {
    let c = match res.cpu() {
        Some(c) => c,
        None => return Ok(()),
    };
    let (shares, quota, period) = (nz(c.shares()), nz(c.quota()), nz(c.period()));
    let (rt_period, rt_runtime) = (nz(c.realtime_period()), nz(c.realtime_runtime()));
    let wants_cpu = shares.is_some()
        || quota.is_some()
        || period.is_some()
        || c.burst().is_some()
        || rt_period.is_some()
        || rt_runtime.is_some()
        || nz(c.idle()).is_some();
    if wants_cpu {
        let cc: &CpuController = cg
            .controller_of()
            .ok_or_else(|| missing("cpu", "a cpu limit"))?;
        let dir = cc.path().to_path_buf();
        let burst = c.burst().map(|b| b.to_string());
        if v2(cg) {
            if let Some(s) = shares {
                // cgroup v1 shares [2, 262144] to v2 weight [1, 10000], as runc converts.
                let w = 1 + ((s.clamp(2, 262144) - 2) * 9999) / 262142;
                write(&dir, "cpu.weight", &w.to_string())?;
            }
            let max = cpu_max(&dir, quota, period);
            let burst = burst.map(|b| ("cpu.max.burst", b));
            write_around(&dir, burst.as_slice(), max.map(|m| ("cpu.max", m)))?;
        } else {
            if let Some(s) = shares {
                write(&dir, "cpu.shares", &s.to_string())?;
            }
            let mut before = Vec::new();
            before.extend(period.map(|p| ("cpu.cfs_period_us", p.to_string())));
            before.extend(burst.map(|b| ("cpu.cfs_burst_us", b)));
            let quota = quota.map(|q| ("cpu.cfs_quota_us", q.to_string()));
            write_around(&dir, &before, quota)?;
            let rt_period = rt_period.map(|p| ("cpu.rt_period_us", p.to_string()));
            let rt_runtime = rt_runtime.map(|r| ("cpu.rt_runtime_us", r.to_string()));
            write_around(&dir, rt_period.as_slice(), rt_runtime)?;
        }
        if let Some(i) = nz(c.idle()) {
            write(&dir, "cpu.idle", &i.to_string())?;
        }
    }
    let cpus = c.cpus().as_deref().filter(|s| !s.is_empty());
    let mems = c.mems().as_deref().filter(|s| !s.is_empty());
    if cpus.is_some() || mems.is_some() {
        let cs: &CpuSetController = cg
            .controller_of()
            .ok_or_else(|| missing("cpuset", "cpus/mems"))?;
        let dir = cs.path().to_path_buf();
        if let Some(v) = cpus {
            write(&dir, "cpuset.cpus", v)?;
        }
        if let Some(v) = mems {
            write(&dir, "cpuset.mems", v)?;
        }
    }
    Ok(())
}

/// Writes `before`, then `pivot`: values the kernel checks against each other (the CFS period
/// and burst against the quota, the realtime period against the runtime). One of `before` that
/// the kernel refuses with EINVAL, because of the value the pivot still has, is written again
/// once the pivot is: runc's order and retry (a smaller period under a parent's quota, a burst
/// above the old quota, a shorter rt period than the old runtime).
fn write_around(
    dir: &Path,
    before: &[(&str, String)],
    pivot: Option<(&str, String)>,
) -> Result<()> {
    let mut again = Vec::new();
    for (file, v) in before {
        if let Err(e) = write(dir, file, v) {
            if e.errno() != Some(libc::EINVAL) || pivot.is_none() {
                return Err(e);
            }
            again.push((file, v));
        }
    }
    if let Some((file, v)) = &pivot {
        write(dir, file, v)?;
    }
    for (file, v) in again {
        write(dir, file, v)?;
    }
    Ok(())
}

/// v2's `cpu.max` ("QUOTA PERIOD", "max" for no quota) for a new quota and/or period: an unset
/// period is left out (the kernel keeps the one in force), an unset quota is the one in force.
fn cpu_max(dir: &Path, quota: Option<i64>, period: Option<u64>) -> Option<String> {
    let q = match quota {
        Some(q) if q > 0 => q.to_string(),
        Some(_) => "max".to_string(),
        None => {
            period?;
            std::fs::read_to_string(dir.join("cpu.max"))
                .ok()
                .and_then(|t| t.split_whitespace().next().map(str::to_string))
                .unwrap_or_else(|| "max".to_string())
        }
    };
    Some(match period {
        Some(p) => format!("{} {}", q, p),
        None => q,
    })
}
