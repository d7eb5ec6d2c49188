//! `update`: runc's flags, or a linux.resources JSON document (-r FILE, - for stdin).

use crate::cli::UpdateArgs;
use crate::{CmdResult, Ctx};
use rune_core::oci_spec::runtime::{LinuxCpu, LinuxMemory, LinuxPids, LinuxResources};
use rune_core::{err, Container, Error};
use std::io::Read;

/// A size as runc reads one (go-units' RAMInBytes): a number, an optional space, and an
/// optional binary suffix k, m, g, t or p with optional "i" and "b" ("512m", "1.5GiB",
/// "100 kb"); -1 is unlimited. Errors are runc's: "invalid value for memory: invalid size: 'x'".
fn bytes(flag: &str, s: &str) -> rune_core::Result<i64> {
    if s == "-1" {
        return Ok(-1);
    }
    let bad = || {
        err!(
            InvalidArgument,
            "invalid value for {}: invalid size: '{}'",
            flag,
            s
        )
    };
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    if !num.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(bad());
    }
    let n: f64 = num.parse().map_err(|_| bad())?;
    let unit = unit.strip_prefix(' ').unwrap_or(unit).to_ascii_lowercase();
    let (mul, rest) = match unit.chars().next() {
        Some(c @ ('k' | 'm' | 'g' | 't' | 'p')) => {
            let shift = 10 * (1 + "kmgtp".find(c).unwrap_or(0) as u32);
            (1u64 << shift, &unit[1..])
        }
        _ => (1, unit.as_str()),
    };
    let rest = rest.strip_prefix('i').unwrap_or(rest);
    if !(rest.is_empty() || rest == "b") {
        return Err(bad());
    }
    Ok((n * mul as f64) as i64)
}

/// A number flag; a bad one is runc's "invalid value for cpu-share: ...".
fn number<T: std::str::FromStr>(flag: &str, v: &Option<String>) -> rune_core::Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    v.as_deref()
        .map(|s| {
            s.parse::<T>().map_err(|e| {
                err!(
                    InvalidArgument,
                    "invalid value for {}: {:?}: {}",
                    flag,
                    s,
                    e
                )
            })
        })
        .transpose()
}

fn from_flags(a: &UpdateArgs) -> rune_core::Result<LinuxResources> {
    let mut r = LinuxResources::default();
    let mut mem = LinuxMemory::default();
    let size = |flag: &str, v: &Option<String>| v.as_deref().map(|s| bytes(flag, s)).transpose();
    mem.set_limit(size("memory", &a.memory)?);
    mem.set_reservation(size("memory-reservation", &a.memory_reservation)?);
    mem.set_swap(size("memory-swap", &a.memory_swap)?);
    if mem != LinuxMemory::default() {
        r.set_memory(Some(mem));
    }
    let mut cpu = LinuxCpu::default();
    cpu.set_shares(number("cpu-share", &a.cpu_share)?);
    cpu.set_quota(number("cpu-quota", &a.cpu_quota)?);
    cpu.set_period(number("cpu-period", &a.cpu_period)?);
    cpu.set_burst(number("cpu-burst", &a.cpu_burst)?);
    cpu.set_realtime_period(number("cpu-rt-period", &a.cpu_rt_period)?);
    cpu.set_realtime_runtime(number("cpu-rt-runtime", &a.cpu_rt_runtime)?);
    cpu.set_cpus(a.cpuset_cpus.clone());
    cpu.set_mems(a.cpuset_mems.clone());
    if cpu != LinuxCpu::default() {
        r.set_cpu(Some(cpu));
    }
    if let Some(p) = number("pids-limit", &a.pids_limit)? {
        let mut pids = LinuxPids::default();
        pids.set_limit(p);
        r.set_pids(Some(pids));
    }
    if let Some(w) = number("blkio-weight", &a.blkio_weight)? {
        let mut b = rune_core::oci_spec::runtime::LinuxBlockIo::default();
        b.set_weight(Some(w));
        r.set_block_io(Some(b));
    }
    if a.l3_cache_schema.is_some() || a.mem_bw_schema.is_some() {
        return Err(err!(
            InvalidArgument,
            "--l3-cache-schema/--mem-bw-schema: Intel RDT (resctrl) is not available on this host"
        ));
    }
    Ok(r)
}

pub fn run(ctx: &Ctx, a: UpdateArgs) -> CmdResult {
    let res = match &a.resources {
        Some(p) => {
            let mut text = String::new();
            if p.as_os_str() == "-" {
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(|e| Error::io("read stdin", e))?;
            } else {
                text = std::fs::read_to_string(p)
                    .map_err(|e| Error::io(format!("read {}", p.display()), e))?;
            }
            serde_json::from_str::<LinuxResources>(&text)
                .map_err(|e| err!(InvalidSpec, "invalid resources JSON: {}", e))?
        }
        None => from_flags(&a)?,
    };
    Container::load(&ctx.store, &a.id)?.update(&res)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        let b = |s| super::bytes("memory", s);
        assert_eq!(b("100").unwrap(), 100);
        assert_eq!(b("4k").unwrap(), 4096);
        assert_eq!(b("512M").unwrap(), 512 << 20);
        assert_eq!(b("1g").unwrap(), 1 << 30);
        assert_eq!(b("1.5GiB").unwrap(), 3 << 29);
        assert_eq!(b("100 kb").unwrap(), 102400);
        assert_eq!(b("2p").unwrap(), 1 << 51);
        assert_eq!(b("-1").unwrap(), -1);
        for bad in [
            "-5", "x", "12xyz", "1e3", "inf", ".5k", "1.2.3", "5kk", "5bi", "",
        ] {
            let e = b(bad).unwrap_err().to_string();
            assert_eq!(
                e,
                format!("invalid value for memory: invalid size: '{bad}'")
            );
        }
    }

    #[test]
    fn numbers() {
        let n = |s: &str| super::number::<u64>("cpu-share", &Some(s.to_string()));
        assert_eq!(n("512").unwrap(), Some(512));
        assert!(n("abc")
            .unwrap_err()
            .to_string()
            .starts_with("invalid value for cpu-share: \"abc\""));
        assert!(n("-1").is_err());
    }
}
