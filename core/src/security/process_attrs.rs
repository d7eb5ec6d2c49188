//! The rest of a process's settings from config.json: personality, scheduler, I/O priority,
//! CPU affinity, memory policy, and the LSM labels (applied where the host has the LSM; where it
//! has none they are ignored, as runc does). Intel RDT needs resctrl: a clear error without it.

use crate::err;
use crate::error::{Context, Error, Result};
use crate::sys::sched;
use oci_spec::runtime::{
    IOPriorityClass, LinuxPersonalityDomain, LinuxSchedulerFlag, LinuxSchedulerPolicy,
    MemoryPolicyFlagType, MemoryPolicyModeType, Process, Spec,
};

/// Applied while still privileged (before the user switch).
pub fn apply_privileged(spec: &Spec, process: &Process) -> Result<()> {
    if let Some(p) = spec.linux().as_ref().and_then(|l| l.personality().as_ref()) {
        let persona: libc::c_ulong = match p.domain() {
            LinuxPersonalityDomain::PerLinux => 0x0000,
            LinuxPersonalityDomain::PerLinux32 => 0x0008,
        };
        sched::set_personality(persona).context("set personality")?;
    }
    if let Some(s) = process.scheduler() {
        scheduler(s)?;
    }
    if let Some(io) = process.io_priority() {
        let class = match io.class() {
            IOPriorityClass::IoprioClassRt => 1,
            IOPriorityClass::IoprioClassBe => 2,
            IOPriorityClass::IoprioClassIdle => 3,
        };
        if !(0..=7).contains(&io.priority()) {
            return Err(err!(
                InvalidSpec,
                "process.ioPriority.priority {} is not in 0..7",
                io.priority()
            ));
        }
        let prio = (class << 13) | io.priority() as i32;
        sched::set_io_priority(prio).context("set I/O priority")?;
    }
    if let Some(mp) = spec
        .linux()
        .as_ref()
        .and_then(|l| l.memory_policy().as_ref())
    {
        memory_policy(mp)?;
    }
    if let Some(rdt) = spec.linux().as_ref().and_then(|l| l.intel_rdt().as_ref()) {
        let _ = rdt;
        if !std::path::Path::new("/sys/fs/resctrl/schemata").exists() {
            return Err(err!(
                InvalidSpec,
                "linux.intelRdt is set but this host has no resctrl file system (Intel RDT)"
            ));
        }
        return Err(err!(
            InvalidSpec,
            "linux.intelRdt is not supported by rune yet"
        ));
    }
    if let Some(a) = process.exec_cpu_affinity() {
        if let Some(initial) = a.initial() {
            set_affinity(initial)?;
        }
    }
    lsm_labels(process)
}

/// Applied just before execve.
pub fn apply_last(process: &Process) -> Result<()> {
    if let Some(a) = process.exec_cpu_affinity() {
        if let Some(fin) = a.cpu_affinity_final() {
            set_affinity(fin)?;
        }
    }
    Ok(())
}

fn scheduler(s: &oci_spec::runtime::Scheduler) -> Result<()> {
    let policy = match s.policy() {
        LinuxSchedulerPolicy::SchedOther => 0,
        LinuxSchedulerPolicy::SchedFifo => 1,
        LinuxSchedulerPolicy::SchedRr => 2,
        LinuxSchedulerPolicy::SchedBatch => 3,
        LinuxSchedulerPolicy::SchedIso => 4,
        LinuxSchedulerPolicy::SchedIdle => 5,
        LinuxSchedulerPolicy::SchedDeadline => 6,
    };
    let mut flags = 0u64;
    for f in s.flags().iter().flatten() {
        flags |= match f {
            LinuxSchedulerFlag::SchedResetOnFork => 0x01,
            LinuxSchedulerFlag::SchedFlagReclaim => 0x02,
            LinuxSchedulerFlag::SchedFlagDLOverrun => 0x04,
            LinuxSchedulerFlag::SchedFlagKeepPolicy => 0x08,
            LinuxSchedulerFlag::SchedFlagKeepParams => 0x10,
            LinuxSchedulerFlag::SchedFlagUtilClampMin => 0x20,
            LinuxSchedulerFlag::SchedFlagUtilClampMax => 0x40,
        };
    }
    let attr = sched::SchedAttr {
        policy,
        flags,
        nice: s.nice().unwrap_or(0),
        priority: s.priority().unwrap_or(0) as u32,
        runtime: s.runtime().unwrap_or(0),
        deadline: s.deadline().unwrap_or(0),
        period: s.period().unwrap_or(0),
        ..Default::default()
    };
    sched::set_sched_attr(&attr).with_context(|| format!("set scheduler policy {:?}", s.policy()))
}

fn memory_policy(mp: &oci_spec::runtime::LinuxMemoryPolicy) -> Result<()> {
    let mode: i32 = match mp.mode() {
        MemoryPolicyModeType::MpolDefault => 0,
        MemoryPolicyModeType::MpolPreferred => 1,
        MemoryPolicyModeType::MpolBind => 2,
        MemoryPolicyModeType::MpolInterleave => 3,
        MemoryPolicyModeType::MpolLocal => 4,
        MemoryPolicyModeType::MpolPreferredMany => 5,
        MemoryPolicyModeType::MpolWeightedInterleave => 6,
    };
    let mut flags = 0i32;
    for f in mp.flags().iter().flatten() {
        flags |= match f {
            MemoryPolicyFlagType::MpolFStaticNodes => 1 << 15,
            MemoryPolicyFlagType::MpolFRelativeNodes => 1 << 14,
            MemoryPolicyFlagType::MpolFNumaBalancing => 1 << 13,
        };
    }
    let nodes = parse_list(mp.nodes().as_deref().unwrap_or(""))?;
    let mut mask = [0u64; 16];
    for n in &nodes {
        if *n >= 1024 {
            return Err(err!(
                InvalidSpec,
                "linux.memoryPolicy: node {} out of range",
                n
            ));
        }
        mask[n / 64] |= 1 << (n % 64);
    }
    // No nodes: no mask at all (NULL, maxnode 0).
    let mask: &[u64] = if nodes.is_empty() { &[] } else { &mask };
    sched::set_mempolicy(mode | flags, mask)
        .with_context(|| format!("set memory policy {:?}", mp.mode()))
}

/// "0-3,5" → [0,1,2,3,5].
fn parse_list(s: &str) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || err!(InvalidSpec, "invalid CPU or node list {:?}", s);
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) =
                    (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                if a > b {
                    return Err(bad());
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().map_err(|_| bad())?),
        }
    }
    Ok(out)
}

fn set_affinity(list: &str) -> Result<()> {
    let mut set = sched::CpuSet::new();
    for cpu in parse_list(list)? {
        // CPU_SETSIZE (1024) CPUs; add refuses the others.
        if !set.add(cpu) {
            return Err(err!(InvalidSpec, "CPU {} out of range in {:?}", cpu, list));
        }
    }
    sched::set_affinity(&set).with_context(|| format!("set CPU affinity {:?}", list))
}

fn apparmor_enabled() -> bool {
    std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .is_ok_and(|s| s.trim() == "Y")
}

pub(crate) fn selinux_enabled() -> bool {
    std::path::Path::new("/sys/fs/selinux/enforce").exists()
}

/// An AppArmor profile or SELinux label the host cannot apply is an error before anything is
/// made, as runc refuses them too (it only finds out half-way through, when applying them).
pub fn check_lsm(process: &Process, mount_label: Option<&str>) -> Result<()> {
    let set = |v: &Option<String>| v.as_deref().is_some_and(|p| !p.is_empty());
    if set(process.apparmor_profile()) && !apparmor_enabled() {
        return Err(crate::err!(
            InvalidSpec,
            "apparmor profile {:?} is set, but AppArmor is not enabled on this host",
            process.apparmor_profile().as_deref().unwrap_or("")
        ));
    }
    if set(process.selinux_label()) && !selinux_enabled() {
        return Err(crate::err!(
            InvalidSpec,
            "selinux label {:?} is set, but SELinux is not enabled on this host",
            process.selinux_label().as_deref().unwrap_or("")
        ));
    }
    if mount_label.is_some_and(|l| !l.is_empty()) && !selinux_enabled() {
        return Err(crate::err!(
            InvalidSpec,
            "linux.mountLabel {:?} is set, but SELinux is not enabled on this host",
            mount_label.unwrap_or("")
        ));
    }
    Ok(())
}

/// AppArmor profile and SELinux label for the next execve (check_lsm made sure the host has
/// what is asked).
fn lsm_labels(process: &Process) -> Result<()> {
    if let Some(profile) = process
        .apparmor_profile()
        .as_deref()
        .filter(|p| !p.is_empty())
    {
        if apparmor_enabled() {
            let attr = if std::path::Path::new("/proc/self/attr/apparmor/exec").exists() {
                "/proc/self/attr/apparmor/exec"
            } else {
                "/proc/self/attr/exec"
            };
            std::fs::write(attr, format!("exec {}", profile))
                .map_err(|e| Error::io(format!("apply AppArmor profile {:?}", profile), e))?;
        }
    }
    if let Some(label) = process.selinux_label().as_deref().filter(|l| !l.is_empty()) {
        if selinux_enabled() {
            std::fs::write("/proc/self/attr/exec", label)
                .map_err(|e| Error::io(format!("set SELinux label {:?}", label), e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_lists() {
        assert_eq!(super::parse_list("0-3,5").unwrap(), vec![0, 1, 2, 3, 5]);
        assert_eq!(super::parse_list("").unwrap(), Vec::<usize>::new());
        assert!(super::parse_list("3-1").is_err());
        assert!(super::parse_list("x").is_err());
    }
}
