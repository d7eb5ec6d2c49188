//! The memory controller: limit, memory+swap, reservation and the v1-only knobs.

use super::{missing, nz, v2, write};
use crate::err;
use crate::error::{Error, Result};
use cgroups_rs::cgroup::Cgroup;
use cgroups_rs::memory::MemController;
use cgroups_rs::Controller;
use oci_spec::runtime::LinuxResources;
use std::path::Path;

const LIMIT_V1: &str = "memory.limit_in_bytes";
const SWAP_V1: &str = "memory.memsw.limit_in_bytes";

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
    if v2(cg) {
        limit_and_swap_v2(&dir, limit, swap)?;
    } else {
        limit_and_swap_v1(&dir, limit, swap)?;
    }
    if let Some(r) = reservation {
        match v2(cg) {
            true => write(&dir, "memory.low", &max_or(r))?,
            false => write(&dir, "memory.soft_limit_in_bytes", &r.to_string())?,
        }
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

/// v2's spelling of "unlimited".
fn max_or(v: i64) -> String {
    if v == -1 {
        "max".into()
    } else {
        v.to_string()
    }
}

fn read_u64(dir: &Path, file: &str) -> Result<u64> {
    let p = dir.join(file);
    let text =
        std::fs::read_to_string(&p).map_err(|e| Error::io(format!("read {}", p.display()), e))?;
    text.trim()
        .parse()
        .map_err(|_| err!(Os, "{}: not a number: {:?}", p.display(), text.trim()))
}

/// v1: the kernel refuses a memory.limit_in_bytes above memory.memsw.limit_in_bytes and a
/// memsw limit below the memory limit, so of the two writes the one that keeps memsw >= memory
/// goes first, as runc orders them: memory+swap first when it is lifted (-1) or raised above the
/// memory limit in force, else the memory limit first. A memory limit of -1 with no swap given
/// lifts memory+swap too (runc: -1 is unlimited memory, which swap must not cap).
fn limit_and_swap_v1(dir: &Path, limit: Option<i64>, swap: Option<i64>) -> Result<()> {
    let swap = match (limit, swap) {
        (Some(-1), None) if dir.join(SWAP_V1).exists() => Some(-1),
        _ => swap,
    };
    let swap_first = match (limit, swap) {
        (Some(_), Some(-1)) => true,
        (Some(_), Some(sw)) => read_u64(dir, LIMIT_V1)? < sw as u64,
        _ => false,
    };
    if let (true, Some(sw)) = (swap_first, swap) {
        write(dir, SWAP_V1, &sw.to_string())?;
    }
    if let Some(l) = limit {
        write(dir, LIMIT_V1, &l.to_string()).map_err(|e| busy_limit(dir, l, e))?;
    }
    if let (false, Some(sw)) = (swap_first, swap) {
        write(dir, SWAP_V1, &sw.to_string())?;
    }
    Ok(())
}

/// EBUSY from memory.limit_in_bytes: the limit is below what the cgroup uses and the kernel
/// could not reclaim enough. Said as runc says it (callers look for these words).
fn busy_limit(dir: &Path, limit: i64, e: Error) -> Error {
    if e.errno() != Some(libc::EBUSY) {
        return e;
    }
    match (
        read_u64(dir, "memory.usage_in_bytes"),
        read_u64(dir, "memory.max_usage_in_bytes"),
    ) {
        (Ok(usage), Ok(peak)) => Error::new(
            e.kind(),
            format!(
                "unable to set memory limit to {} (current usage: {}, peak usage: {})",
                limit, usage, peak
            ),
        )
        .with_errno(e.errno()),
        _ => e,
    }
}

/// v2: memory.swap.max holds the swap alone, the spec's swap is memory+swap: converted as runc
/// does (-1 for the memory alone lifts the swap limit too), swap.max written first.
fn limit_and_swap_v2(dir: &Path, limit: Option<i64>, swap: Option<i64>) -> Result<()> {
    let swap_max = match (limit, swap) {
        (Some(-1), None) | (_, Some(-1)) => Some("max".to_string()),
        (_, None) => None,
        (Some(l), Some(sw)) if l > 0 => {
            if sw < l {
                return Err(err!(
                    InvalidSpec,
                    "memory+swap limit should be >= memory limit (swap {} < limit {})",
                    sw,
                    l
                ));
            }
            Some((sw - l).to_string())
        }
        (_, Some(_)) => {
            return Err(err!(
                InvalidSpec,
                "unable to set swap limit without memory limit"
            ))
        }
    };
    if let Some(v) = swap_max {
        // Without swap accounting, lifting or disabling the swap limit asks for nothing.
        let absent = !dir.join("memory.swap.max").exists();
        if !(absent && (v == "max" || v == "0")) {
            write(dir, "memory.swap.max", &v)?;
        }
    }
    if let Some(l) = limit {
        write(dir, "memory.max", &max_or(l))?;
    }
    Ok(())
}
