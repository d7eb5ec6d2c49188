//! The cpu and cpuset controllers: shares, CFS quota and period, burst, realtime, idle, cpus/mems.

use super::{missing, nz, v2, write};
use crate::error::Result;
use cgroups_rs::cgroup::Cgroup;
use cgroups_rs::cpu::CpuController;
use cgroups_rs::cpuset::CpuSetController;
use cgroups_rs::Controller;
use oci_spec::runtime::LinuxResources;

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
        if v2(cg) {
            if let Some(s) = shares {
                // cgroup v1 shares [2, 262144] to v2 weight [1, 10000], as runc converts.
                let w = 1 + ((s.clamp(2, 262144) - 2) * 9999) / 262142;
                write(&dir, "cpu.weight", &w.to_string())?;
            }
            if c.quota().is_some() || c.period().is_some() {
                let q = c
                    .quota()
                    .filter(|q| *q > 0)
                    .map(|q| q.to_string())
                    .unwrap_or_else(|| "max".into());
                write(
                    &dir,
                    "cpu.max",
                    &format!("{} {}", q, c.period().unwrap_or(100000)),
                )?;
            }
        } else {
            if let Some(s) = shares {
                write(&dir, "cpu.shares", &s.to_string())?;
            }
            if let Some(p) = period {
                write(&dir, "cpu.cfs_period_us", &p.to_string())?;
            }
            if let Some(q) = quota {
                write(&dir, "cpu.cfs_quota_us", &q.to_string())?;
            }
            if let Some(p) = rt_period {
                write(&dir, "cpu.rt_period_us", &p.to_string())?;
            }
            if let Some(r) = rt_runtime {
                write(&dir, "cpu.rt_runtime_us", &r.to_string())?;
            }
        }
        if let Some(b) = c.burst() {
            write(
                &dir,
                if v2(cg) {
                    "cpu.max.burst"
                } else {
                    "cpu.cfs_burst_us"
                },
                &b.to_string(),
            )?;
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
