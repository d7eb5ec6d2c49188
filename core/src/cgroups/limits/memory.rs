//! The memory controller: limit, memory+swap, reservation and the v1-only knobs.

use super::{missing, nz, v2, write};
use crate::err;
use crate::error::{Error, Result};
use cgroups_rs::cgroup::Cgroup;
use cgroups_rs::memory::MemController;
use cgroups_rs::Controller;
use oci_spec::runtime::{LinuxMemory, LinuxResources};
use std::path::Path;

const LIMIT_V1: &str = "memory.limit_in_bytes";
const SWAP_V1: &str = "memory.memsw.limit_in_bytes";

pub(super) fn memory(cg: &Cgroup, res: &LinuxResources) -> Result<()> {
    let m = match res.memory() {
        Some(m) => m,
        None => return Ok(()),
    };
    let asked = Asked::of(m);
    let mc: &MemController = match cg.controller_of() {
        Some(c) => c,
        None if asked.any() => return Err(missing("memory", "a memory limit")),
        None => return Ok(()),
    };
    let dir = mc.path().to_path_buf();
    check_sizes(&asked)?;
    if m.check_before_update().unwrap_or(false) {
        check_usage(mc, asked.limit)?;
    }
    let v2 = v2(cg);
    if v2 {
        limit_and_swap_v2(&dir, asked.limit, asked.swap)?;
    } else {
        limit_and_swap_v1(&dir, asked.limit, asked.swap)?;
    }
    if let Some(r) = asked.reservation {
        reservation(&dir, v2, r)?;
    }
    // kernelTCP is v1's alone (v2 accounts TCP buffers in memory.max); `kernel`, the kmem
    // limit, the kernel itself no longer enforces (5.16 on), and runc ignores it.
    if let (Some(t), false) = (asked.kernel_tcp, v2) {
        write(&dir, "memory.kmem.tcp.limit_in_bytes", &t.to_string())?;
    }
    if let Some(s) = asked.swappiness {
        swappiness(&dir, v2, s)?;
    }
    if !v2 {
        oom_and_hierarchy_v1(&dir, m)?;
    }
    Ok(())
}

/// What the spec's memory section asks for: 0 is "unset" for the sizes.
struct Asked {
    limit: Option<i64>,
    reservation: Option<i64>,
    swap: Option<i64>,
    kernel_tcp: Option<i64>,
    swappiness: Option<u64>,
    disable_oom_killer: bool,
}

impl Asked {
    fn of(m: &LinuxMemory) -> Asked {
        Asked {
            limit: nz(m.limit()),
            reservation: nz(m.reservation()),
            swap: nz(m.swap()),
            kernel_tcp: nz(m.kernel_tcp()),
            // Docker sends -1 for "unset" swappiness.
            swappiness: m.swappiness().filter(|s| *s as i64 != -1 && *s != u64::MAX),
            disable_oom_killer: m.disable_oom_killer() == Some(true),
        }
    }

    /// Whether anything is asked that needs the memory controller.
    fn any(&self) -> bool {
        self.limit.is_some()
            || self.kernel_tcp.is_some()
            || self.reservation.is_some()
            || self.swap.is_some()
            || self.swappiness.is_some()
            || self.disable_oom_killer
    }
}

/// Every size is a number of bytes, or -1 for unlimited.
fn check_sizes(asked: &Asked) -> Result<()> {
    let sizes = [asked.limit, asked.reservation, asked.swap, asked.kernel_tcp];
    for v in sizes.into_iter().flatten() {
        if v < -1 {
            return Err(err!(
                InvalidSpec,
                "linux.resources.memory: invalid value {} (a size in bytes, or -1)",
                v
            ));
        }
    }
    Ok(())
}

/// checkBeforeUpdate: a limit below what the cgroup already uses is refused.
fn check_usage(mc: &MemController, limit: Option<i64>) -> Result<()> {
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
    Ok(())
}

/// The reservation: memory.low on v2, the soft limit on v1.
fn reservation(dir: &Path, v2: bool, r: i64) -> Result<()> {
    match v2 {
        true => write(dir, "memory.low", &max_or(r)),
        false => write(dir, "memory.soft_limit_in_bytes", &r.to_string()),
    }
}

/// Swappiness is 0..=100; only v1 has the knob.
fn swappiness(dir: &Path, v2: bool, s: u64) -> Result<()> {
    if s > 100 {
        return Err(err!(
            InvalidSpec,
            "linux.resources.memory.swappiness {} is above 100",
            s
        ));
    }
    if !v2 {
        write(dir, "memory.swappiness", &s.to_string())?;
    }
    Ok(())
}

/// v1's disableOOMKiller and useHierarchy.
fn oom_and_hierarchy_v1(dir: &Path, m: &LinuxMemory) -> Result<()> {
    if m.disable_oom_killer() == Some(true) {
        write(dir, "memory.oom_control", "1")?;
    }
    if let Some(h) = m.use_hierarchy() {
        // Only settable before children exist; the kernel keeps 1 nowadays.
        let _ = write(dir, "memory.use_hierarchy", if h { "1" } else { "0" });
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
/// does (-1 for the memory alone lifts the swap limit too), swap.max written first. A swap given
/// without a memory limit (`update --memory-swap` alone) is counted from the memory limit in
/// force, as runc counts it from the limit its update merged in from the config.
fn limit_and_swap_v2(dir: &Path, limit: Option<i64>, swap: Option<i64>) -> Result<()> {
    let base = match (limit, swap) {
        (None, Some(sw)) if sw > 0 => limit_in_force_v2(dir),
        _ => limit,
    };
    let swap_max = match (base, swap) {
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

/// memory.max as a spec limit: -1 for "max", None when unreadable.
fn limit_in_force_v2(dir: &Path) -> Option<i64> {
    let text = std::fs::read_to_string(dir.join("memory.max")).ok()?;
    match text.trim() {
        "max" => Some(-1),
        v => v.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::rootfs::testing::Scratch;

    /// A stand-in v2 memory cgroup: plain files with the values in force, removed on drop.
    struct V2Dir(Scratch);

    impl V2Dir {
        fn path(&self) -> &Path {
            &self.0.dir
        }
    }

    fn v2_dir(max: &str, swap_max: &str) -> V2Dir {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let d = V2Dir(Scratch::new(&format!("memv2-{n}")));
        std::fs::write(d.path().join("memory.max"), max).unwrap();
        std::fs::write(d.path().join("memory.swap.max"), swap_max).unwrap();
        d
    }

    fn read(d: &V2Dir, f: &str) -> String {
        std::fs::read_to_string(d.path().join(f)).unwrap()
    }

    /// Sets a file as the kernel shows it (a plain file keeps what a shorter write leaves).
    fn set(d: &V2Dir, f: &str, v: &str) {
        std::fs::write(d.path().join(f), v).unwrap();
    }

    #[test]
    fn v2_swap_alone_is_counted_from_the_limit_in_force() {
        let d = v2_dir("67108864\n", "");
        limit_and_swap_v2(d.path(), None, Some(96 << 20)).unwrap();
        assert_eq!(read(&d, "memory.swap.max"), (32u64 << 20).to_string());
        assert_eq!(read(&d, "memory.max"), "67108864\n");
        // Below the limit in force: runc's error, nothing written.
        set(&d, "memory.swap.max", "");
        let e = limit_and_swap_v2(d.path(), None, Some(32 << 20)).unwrap_err();
        assert!(e
            .to_string()
            .contains("memory+swap limit should be >= memory limit"));
        assert_eq!(read(&d, "memory.swap.max"), "");
        // -1 lifts the swap limit whatever the memory limit.
        limit_and_swap_v2(d.path(), None, Some(-1)).unwrap();
        assert_eq!(read(&d, "memory.swap.max"), "max");
    }

    #[test]
    fn v2_swap_alone_without_a_memory_limit_is_refused() {
        let d = v2_dir("max\n", "max\n");
        let e = limit_and_swap_v2(d.path(), None, Some(96 << 20)).unwrap_err();
        assert!(e
            .to_string()
            .contains("unable to set swap limit without memory limit"));
        assert_eq!(read(&d, "memory.swap.max"), "max\n");
    }

    #[test]
    fn v2_limit_and_swap_together() {
        let d = v2_dir("", "");
        limit_and_swap_v2(d.path(), Some(64 << 20), Some(128 << 20)).unwrap();
        assert_eq!(read(&d, "memory.max"), (64u64 << 20).to_string());
        assert_eq!(read(&d, "memory.swap.max"), (64u64 << 20).to_string());
        set(&d, "memory.max", "");
        set(&d, "memory.swap.max", "");
        limit_and_swap_v2(d.path(), Some(-1), None).unwrap();
        assert_eq!(read(&d, "memory.max"), "max");
        assert_eq!(read(&d, "memory.swap.max"), "max");
    }
}
