//! The memory controller: limit, memory+swap, reservation and the v1-only knobs.

use super::{missing, nz, v2, write};
use crate::err;
use crate::error::Result;
use cgroups_rs::cgroup::Cgroup;
use cgroups_rs::memory::MemController;
use cgroups_rs::Controller;
use oci_spec::runtime::LinuxResources;

pub(super) fn memory(cg: &Cgroup, res: &LinuxResources) -> Result<()> {
    let m = match res.memory() {
        Some(m) => m,
        None => return Ok(()),
    };
    let (limit, reservation, swap) = (nz(m.limit()), nz(m.reservation()), nz(m.swap()));
    // Docker sends -1 for "unset" swappiness.
    let swappiness = m.swappiness().filter(|s| *s as i64 != -1 && *s != u64::MAX);
    let kernel_tcp = nz(m.kernel_tcp());
    let any = limit.is_some()
        || kernel_tcp.is_some()
        || reservation.is_some()
        || swap.is_some()
        || swappiness.is_some()
        || m.disable_oom_killer() == Some(true);
    let mc: &MemController = match cg.controller_of() {
        Some(c) => c,
        None if any => return Err(missing("memory", "a memory limit")),
        None => return Ok(()),
    };
    let dir = mc.path().to_path_buf();
    for v in [limit, reservation, swap, kernel_tcp].into_iter().flatten() {
        if v < -1 {
            return Err(err!(
                InvalidSpec,
                "linux.resources.memory: invalid value {} (a size in bytes, or -1)",
                v
            ));
        }
    }
    if m.check_before_update().unwrap_or(false) {
        if let Some(limit) = limit.filter(|l| *l > 0) {
            let usage = mc.memory_stat().usage_in_bytes as i64;
            if limit < usage {
                return Err(err!(
                    InvalidArgument,
                    "memory limit {} is below the current usage {}",
                    limit,
                    usage
                ));
            }
        }
    }
    let (limit_file, swap_file, soft_file) = if v2(cg) {
        ("memory.max", "memory.swap.max", "memory.low")
    } else {
        (
            "memory.limit_in_bytes",
            "memory.memsw.limit_in_bytes",
            "memory.soft_limit_in_bytes",
        )
    };
    let num = |v: i64| {
        if v2(cg) && v == -1 {
            "max".to_string()
        } else {
            v.to_string()
        }
    };
    // v2's swap.max is swap alone; the spec's swap is memory+swap.
    let swap_val = |swap: i64| {
        if v2(cg) && swap > 0 {
            (swap - limit.unwrap_or(0)).max(0).to_string()
        } else {
            num(swap)
        }
    };
    match (limit, swap) {
        (Some(l), Some(sw)) => {
            // memsw must stay >= the limit: the order depends on the values now in force.
            if write(&dir, limit_file, &num(l)).is_err() {
                write(&dir, swap_file, &swap_val(sw))?;
                write(&dir, limit_file, &num(l))?;
            } else {
                write(&dir, swap_file, &swap_val(sw))?;
            }
        }
        (Some(l), None) => write(&dir, limit_file, &num(l))?,
        (None, Some(sw)) => write(&dir, swap_file, &swap_val(sw))?,
        (None, None) => {}
    }
    if let Some(r) = reservation {
        write(&dir, soft_file, &num(r))?;
    }
    // kernelTCP is v1's alone (v2 accounts TCP buffers in memory.max); `kernel`, the kmem
    // limit, the kernel itself no longer enforces (5.16 on), and runc ignores it.
    if let (Some(t), false) = (kernel_tcp, v2(cg)) {
        write(&dir, "memory.kmem.tcp.limit_in_bytes", &t.to_string())?;
    }
    if let Some(s) = swappiness {
        if s > 100 {
            return Err(err!(
                InvalidSpec,
                "linux.resources.memory.swappiness {} is above 100",
                s
            ));
        }
        if !v2(cg) {
            write(&dir, "memory.swappiness", &s.to_string())?;
        }
    }
    if m.disable_oom_killer() == Some(true) && !v2(cg) {
        write(&dir, "memory.oom_control", "1")?;
    }
    if let Some(h) = m.use_hierarchy() {
        if !v2(cg) {
            // Only settable before children exist; the kernel keeps 1 nowadays.
            let _ = write(&dir, "memory.use_hierarchy", if h { "1" } else { "0" });
        }
    }
    Ok(())
}
