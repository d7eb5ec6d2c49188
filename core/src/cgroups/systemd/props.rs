//! `linux.resources` as systemd unit properties, converted as runc does (cgroup v2: MemoryMax,
//! CPUWeight, ...; v1: MemoryLimit, CPUShares, ...). systemd writes these to the cgroup files
//! itself, and writes them again on `daemon-reload`: rune writes every limit to the files after
//! them all the same, so a limit systemd has no property for is not lost.

use super::wire::Value;
use crate::err;
use crate::error::Result;
use oci_spec::runtime::LinuxResources;

/// systemd's "infinity".
pub const MAX: u64 = u64::MAX;
const DEFAULT_PERIOD: u64 = 100_000;

fn t(name: &str, v: u64) -> Value {
    Value::prop(name, Value::U64(v))
}

/// A limit where -1 means no limit.
fn limit(v: i64) -> u64 {
    if v < 0 {
        MAX
    } else {
        v as u64
    }
}

/// cgroup v1 shares [2, 262144] as a v2 weight [1, 10000].
pub fn cpu_weight(shares: u64) -> u64 {
    1 + ((shares.clamp(2, 262144) - 2) * 9999) / 262142
}

/// The blkio weight [10, 1000] as an io weight [1, 10000].
pub fn io_weight(w: u16) -> u64 {
    1 + (u64::from(w).clamp(10, 1000) - 10) * 9999 / 990
}

/// CPUQuotaPerSecUSec for a quota per period: rounded up to whole percents (multiples of
/// 10000), which is what systemd keeps; no quota (<= 0) is infinity.
pub fn quota_per_sec(quota: i64, period: u64) -> u64 {
    if quota <= 0 {
        return MAX;
    }
    let period = if period == 0 { DEFAULT_PERIOD } else { period };
    let per_sec = (quota as u64).saturating_mul(1_000_000) / period;
    per_sec.div_ceil(10_000) * 10_000
}

/// The v2 swap limit (swap alone) for the spec's memory+swap, as runc converts: -1 stays
/// infinity, and so does an unset swap beside an unlimited memory. None: no property.
pub fn swap_v2(memory: Option<i64>, swap: Option<i64>) -> Result<Option<u64>> {
    let memory = memory.unwrap_or(0);
    match swap.unwrap_or(0) {
        0 if memory == -1 => Ok(Some(MAX)),
        0 => Ok(None),
        -1 => Ok(Some(MAX)),
        _ if memory <= 0 => Err(err!(
            InvalidSpec,
            "unable to set swap limit without memory limit"
        )),
        s if s < memory => Err(err!(
            InvalidSpec,
            "memory+swap limit should be >= memory limit (swap {} < limit {})",
            s,
            memory
        )),
        s => Ok(Some((s - memory) as u64)),
    }
}

/// A cpu or memory-node list ("0-2,7") as systemd's bit mask: the lowest CPU in the lowest bit
/// of byte 0.
pub fn mask(list: &str) -> Result<Vec<u8>> {
    let bad = || err!(InvalidSpec, "invalid cpu or memory node list {:?}", list);
    let mut bytes: Vec<u8> = Vec::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse::<usize>(), b.trim().parse::<usize>()),
            None => (part.parse::<usize>(), part.parse::<usize>()),
        };
        let (lo, hi) = (lo.map_err(|_| bad())?, hi.map_err(|_| bad())?);
        if lo > hi || hi >= 65536 {
            return Err(bad());
        }
        for bit in lo..=hi {
            if bytes.len() <= bit / 8 {
                bytes.resize(bit / 8 + 1, 0);
            }
            bytes[bit / 8] |= 1 << (bit % 8);
        }
    }
    if bytes.is_empty() {
        return Err(bad());
    }
    Ok(bytes)
}

fn ay(name: &str, bytes: Vec<u8>) -> Value {
    Value::prop(
        name,
        Value::Array("y".into(), bytes.into_iter().map(Value::Byte).collect()),
    )
}

/// CPUQuotaPerSecUSec and (systemd >= 242) CPUQuotaPeriodUSec.
fn quota(out: &mut Vec<Value>, quota: Option<i64>, period: Option<u64>, version: u32) {
    if quota.is_none() && period.is_none() {
        return;
    }
    let p = period.unwrap_or(0);
    out.push(t(
        "CPUQuotaPerSecUSec",
        quota_per_sec(quota.unwrap_or(-1), p),
    ));
    if p != 0 && version >= 242 {
        out.push(t("CPUQuotaPeriodUSec", p));
    }
}

fn cpuset(
    out: &mut Vec<Value>,
    cpus: Option<&str>,
    mems: Option<&str>,
    version: u32,
) -> Result<()> {
    if version < 244 {
        return Ok(());
    }
    if let Some(c) = cpus.filter(|c| !c.trim().is_empty()) {
        out.push(ay("AllowedCPUs", mask(c)?));
    }
    if let Some(m) = mems.filter(|m| !m.trim().is_empty()) {
        out.push(ay("AllowedMemoryNodes", mask(m)?));
    }
    Ok(())
}

/// The properties of `res` for a cgroup v2 host and systemd `version`.
pub fn v2(res: &LinuxResources, version: u32) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    if let Some(m) = res.memory() {
        let lim = m.limit().filter(|l| *l != 0);
        if let Some(l) = lim {
            out.push(t("MemoryMax", limit(l)));
        }
        if let Some(r) = m.reservation().filter(|r| *r != 0) {
            out.push(t("MemoryLow", limit(r)));
        }
        if let Some(s) = swap_v2(lim, m.swap())? {
            out.push(t("MemorySwapMax", s));
        }
    }
    if let Some(c) = res.cpu() {
        if let Some(s) = c.shares().filter(|s| *s != 0) {
            out.push(t("CPUWeight", cpu_weight(s)));
        }
        quota(
            &mut out,
            c.quota().filter(|q| *q != 0),
            c.period().filter(|p| *p != 0),
            version,
        );
        cpuset(&mut out, c.cpus().as_deref(), c.mems().as_deref(), version)?;
    }
    if let Some(p) = res.pids().as_ref().map(|p| p.limit()).filter(|l| *l != 0) {
        out.push(t("TasksMax", limit(p)));
    }
    if let Some(w) = res
        .block_io()
        .as_ref()
        .and_then(|b| b.weight())
        .filter(|w| *w != 0)
    {
        out.push(t("IOWeight", io_weight(w)));
    }
    for (k, v) in res.unified().iter().flatten() {
        unified(&mut out, k, v.trim(), version)?;
    }
    Ok(out)
}

/// A `linux.resources.unified` entry systemd has a property for (the others only go to the
/// files).
fn unified(out: &mut Vec<Value>, key: &str, v: &str, version: u32) -> Result<()> {
    let bad = || {
        err!(
            InvalidSpec,
            "linux.resources.unified: invalid {} value {:?}",
            key,
            v
        )
    };
    let num = |s: &str| -> Result<u64> {
        if s == "max" {
            Ok(MAX)
        } else {
            s.parse::<u64>().map_err(|_| bad())
        }
    };
    match key {
        "cpu.weight" => out.push(t("CPUWeight", num(v)?)),
        "cpu.max" => {
            let mut it = v.split_whitespace();
            let q = it.next().ok_or_else(bad)?;
            let q = if q == "max" {
                -1
            } else {
                q.parse::<i64>().map_err(|_| bad())?
            };
            let p = it
                .next()
                .map(|p| p.parse::<u64>().map_err(|_| bad()))
                .transpose()?;
            quota(out, Some(q), p, version);
        }
        "memory.max" => out.push(t("MemoryMax", num(v)?)),
        "memory.low" => out.push(t("MemoryLow", num(v)?)),
        "memory.high" => out.push(t("MemoryHigh", num(v)?)),
        "memory.swap.max" => out.push(t("MemorySwapMax", num(v)?)),
        "pids.max" => out.push(t("TasksMax", num(v)?)),
        "cpuset.cpus" => cpuset(out, Some(v), None, version)?,
        "cpuset.mems" => cpuset(out, None, Some(v), version)?,
        _ => {}
    }
    Ok(())
}

/// The properties of `res` for a cgroup v1 host.
pub fn v1(res: &LinuxResources, version: u32) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    if let Some(l) = res
        .memory()
        .as_ref()
        .and_then(|m| m.limit())
        .filter(|l| *l != 0)
    {
        out.push(t("MemoryLimit", limit(l)));
    }
    if let Some(c) = res.cpu() {
        if let Some(s) = c.shares().filter(|s| *s != 0) {
            out.push(t("CPUShares", s));
        }
        quota(
            &mut out,
            c.quota().filter(|q| *q != 0),
            c.period().filter(|p| *p != 0),
            version,
        );
    }
    if let Some(w) = res
        .block_io()
        .as_ref()
        .and_then(|b| b.weight())
        .filter(|w| *w != 0)
    {
        out.push(t("BlockIOWeight", u64::from(w)));
    }
    if let Some(p) = res.pids().as_ref().map(|p| p.limit()).filter(|l| *l != 0) {
        out.push(t("TasksMax", limit(p)));
    }
    Ok(out)
}

#[cfg(test)]
#[path = "props_tests.rs"]
mod tests;
