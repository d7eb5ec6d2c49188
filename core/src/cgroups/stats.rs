//! Statistics of a container's cgroup in the shape of runc's `events --stats` (`types.Stats`).

use cgroups_rs::cgroup::Cgroup;
use cgroups_rs::cpu::CpuController;
use cgroups_rs::cpuacct::CpuAcctController;
use cgroups_rs::memory::MemController;
use cgroups_rs::pid::PidController;
use cgroups_rs::MaxValue;
use serde_json::{json, Map, Value};

fn numbers(s: &str) -> Vec<u64> {
    s.split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect()
}

fn kv(s: &str) -> Map<String, Value> {
    s.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            Some((
                it.next()?.to_string(),
                json!(it.next()?.parse::<u64>().ok()?),
            ))
        })
        .collect()
}

/// v2 has no cpuacct: usage and throttling both come from cpu.stat, in microseconds, given in
/// nanoseconds as runc gives them (no per-CPU figures).
fn cpu_v2(st: &Map<String, Value>) -> Value {
    let n = |k: &str| st.get(k).and_then(Value::as_u64).unwrap_or(0);
    json!({
        "usage": {
            "total": n("usage_usec") * 1000,
            "kernel": n("system_usec") * 1000,
            "user": n("user_usec") * 1000,
        },
        "throttling": {
            "periods": n("nr_periods"),
            "throttled_periods": n("nr_throttled"),
            "throttled_time": n("throttled_usec") * 1000,
        },
    })
}

pub fn collect(cg: &Cgroup) -> Value {
    let mut data = Map::new();
    let acct: Option<&CpuAcctController> = cg.controller_of();
    let cpu: Option<&CpuController> = cg.controller_of();
    let mut cpu_v = json!({"usage": {}, "throttling": {}});
    if let Some(a) = acct {
        let a = a.cpuacct();
        cpu_v["usage"] = json!({
            "total": a.usage,
            "percpu": numbers(&a.usage_percpu),
            "percpu_kernel": numbers(&a.usage_percpu_sys),
            "percpu_user": numbers(&a.usage_percpu_user),
            "kernel": a.usage_sys,
            "user": a.usage_user,
        });
    }
    if let Some(c) = cpu {
        let stat = c.cpu().stat;
        let st = kv(&stat);
        if cg.v2() {
            cpu_v = cpu_v2(&st);
        } else {
            cpu_v["throttling"] = json!({
                "periods": st.get("nr_periods").cloned().unwrap_or(json!(0)),
                "throttled_periods": st.get("nr_throttled").cloned().unwrap_or(json!(0)),
                "throttled_time": st.get("throttled_time").cloned().unwrap_or(json!(0)),
            });
        }
    }
    data.insert("cpu".into(), cpu_v);
    let mem: Option<&MemController> = cg.controller_of();
    if let Some(m) = mem {
        let s = m.memory_stat();
        let sw = m.memswap();
        let raw: Map<String, Value> = s
            .stat
            .raw
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        data.insert(
            "memory".into(),
            json!({
                "cache": raw.get("cache").cloned().unwrap_or(json!(0)),
                "usage": {"limit": s.limit_in_bytes, "usage": s.usage_in_bytes,
                          "max": s.max_usage_in_bytes, "failcnt": s.fail_cnt},
                "swap": {"limit": sw.limit_in_bytes, "usage": sw.usage_in_bytes,
                         "max": sw.max_usage_in_bytes, "failcnt": sw.fail_cnt},
                "raw": raw,
            }),
        );
    }
    let pids: Option<&PidController> = cg.controller_of();
    if let Some(p) = pids {
        let limit = match p.get_pid_max() {
            Ok(MaxValue::Value(v)) => v as u64,
            _ => 0,
        };
        data.insert(
            "pids".into(),
            json!({"current": p.get_pid_current().unwrap_or(0), "limit": limit}),
        );
    }
    data.insert("blkio".into(), json!({}));
    data.insert("hugetlb".into(), json!({}));
    Value::Object(data)
}

#[cfg(test)]
mod tests {
    #[test]
    fn v2_cpu_stats_from_cpu_stat() {
        let st = super::kv(
            "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\n\
             nr_throttled 1\nthrottled_usec 20\n",
        );
        let v = super::cpu_v2(&st);
        assert_eq!(v["usage"]["total"], 1_500_000);
        assert_eq!(v["usage"]["user"], 1_000_000);
        assert_eq!(v["usage"]["kernel"], 500_000);
        assert_eq!(v["throttling"]["periods"], 4);
        assert_eq!(v["throttling"]["throttled_periods"], 1);
        assert_eq!(v["throttling"]["throttled_time"], 20_000);
    }
}
