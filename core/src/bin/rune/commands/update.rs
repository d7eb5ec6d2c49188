//! `update`: runc's flags, or a linux.resources JSON document (-r FILE, - for stdin).

use crate::cli::UpdateArgs;
use crate::{CmdResult, Ctx};
use rune_core::oci_spec::runtime::{LinuxCpu, LinuxMemory, LinuxPids, LinuxResources};
use rune_core::{err, Container, Error};
use std::io::Read;

/// Bytes with an optional binary suffix (k, m, g, t; "b" and "i" tolerated): "512m" → 536870912.
fn bytes(s: &str) -> rune_core::Result<i64> {
    let t = s.trim().to_ascii_lowercase();
    if t == "-1" {
        return Ok(-1);
    }
    let t = t.trim_end_matches('b').trim_end_matches('i');
    let (num, mul) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1i64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| err!(InvalidArgument, "invalid size {:?}", s))?;
    if n < 0.0 {
        return Err(err!(InvalidArgument, "invalid size {:?}: negative", s));
    }
    Ok((n * mul as f64) as i64)
}

fn from_flags(a: &UpdateArgs) -> rune_core::Result<LinuxResources> {
    let mut r = LinuxResources::default();
    let mut mem = LinuxMemory::default();
    let mut any_mem = false;
    if let Some(v) = &a.memory {
        mem.set_limit(Some(bytes(v)?));
        any_mem = true;
    }
    if let Some(v) = &a.memory_reservation {
        mem.set_reservation(Some(bytes(v)?));
        any_mem = true;
    }
    if let Some(v) = &a.memory_swap {
        mem.set_swap(Some(bytes(v)?));
        any_mem = true;
    }
    if any_mem {
        r.set_memory(Some(mem));
    }
    let mut cpu = LinuxCpu::default();
    cpu.set_shares(a.cpu_share);
    cpu.set_quota(a.cpu_quota);
    cpu.set_period(a.cpu_period);
    cpu.set_burst(a.cpu_burst);
    cpu.set_realtime_period(a.cpu_rt_period);
    cpu.set_realtime_runtime(a.cpu_rt_runtime);
    cpu.set_cpus(a.cpuset_cpus.clone());
    cpu.set_mems(a.cpuset_mems.clone());
    if cpu != LinuxCpu::default() {
        r.set_cpu(Some(cpu));
    }
    if let Some(p) = a.pids_limit {
        let mut pids = LinuxPids::default();
        pids.set_limit(p);
        r.set_pids(Some(pids));
    }
    if let Some(w) = a.blkio_weight {
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
        assert_eq!(super::bytes("100").unwrap(), 100);
        assert_eq!(super::bytes("4k").unwrap(), 4096);
        assert_eq!(super::bytes("512M").unwrap(), 512 << 20);
        assert_eq!(super::bytes("1g").unwrap(), 1 << 30);
        assert_eq!(super::bytes("-1").unwrap(), -1);
        assert!(super::bytes("-5").is_err());
        assert!(super::bytes("x").is_err());
    }
}
