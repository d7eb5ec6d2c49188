//! This process's execution domain and placement: personality, scheduler attributes, I/O
//! priority and NUMA memory policy.

use super::at_result;
use std::io;

/// personality(2): sets this process's execution domain (PER_LINUX, PER_LINUX32, ...).
pub fn set_personality(persona: libc::c_ulong) -> io::Result<()> {
    // SAFETY: personality takes a flag word and touches no memory of ours.
    if unsafe { libc::personality(persona) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// ioprio_set(IOPRIO_WHO_PROCESS, 0 = this process, `prio`): class << 13 | level.
pub fn set_io_priority(prio: i32) -> io::Result<()> {
    const IOPRIO_WHO_PROCESS: libc::c_int = 1;
    // SAFETY: ioprio_set takes three integers and touches no memory of ours.
    let r = unsafe { libc::syscall(libc::SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, prio) };
    at_result(r as libc::c_int)
}

/// struct sched_attr, as sched_setattr(2) takes it.
#[repr(C)]
#[derive(Default)]
pub struct SchedAttr {
    pub size: u32,
    pub policy: u32,
    pub flags: u64,
    pub nice: i32,
    pub priority: u32,
    pub runtime: u64,
    pub deadline: u64,
    pub period: u64,
}

/// sched_setattr(0 = this thread, `attr`, 0). `attr.size` is set here.
pub fn set_sched_attr(attr: &SchedAttr) -> io::Result<()> {
    let attr = SchedAttr {
        size: std::mem::size_of::<SchedAttr>() as u32,
        ..*attr
    };
    // SAFETY: sched_setattr reads a sched_attr of the size its first field gives, alive here.
    let r = unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0) };
    at_result(r as libc::c_int)
}

/// set_mempolicy(2): `mode` (with its MPOL_F_* flags) over the nodes whose bits `nodemask`
/// sets; an empty mask passes no nodes (NULL, maxnode 0).
pub fn set_mempolicy(mode: i32, nodemask: &[u64]) -> io::Result<()> {
    let (ptr, maxnode) = if nodemask.is_empty() {
        (std::ptr::null(), 0)
    } else {
        (nodemask.as_ptr(), nodemask.len() as libc::c_ulong * 64)
    };
    // SAFETY: the kernel reads at most maxnode bits from the mask, which has that many.
    let r = unsafe { libc::syscall(libc::SYS_set_mempolicy, mode, ptr, maxnode) };
    at_result(r as libc::c_int)
}

/// A set of CPUs for sched_setaffinity(2): CPU_SETSIZE (1024) of them.
pub struct CpuSet(nix::sched::CpuSet);

impl CpuSet {
    pub fn new() -> CpuSet {
        CpuSet(nix::sched::CpuSet::new())
    }

    /// Adds `cpu`; false when it is beyond CPU_SETSIZE.
    pub fn add(&mut self, cpu: usize) -> bool {
        self.0.set(cpu).is_ok()
    }
}

impl Default for CpuSet {
    fn default() -> CpuSet {
        CpuSet::new()
    }
}

/// sched_setaffinity(0 = this thread, `set`).
pub fn set_affinity(set: &CpuSet) -> io::Result<()> {
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set.0).map_err(io::Error::from)
}
