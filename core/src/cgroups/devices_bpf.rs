//! The device rules on cgroup v2, which has no devices controller: an eBPF program of type
//! BPF_PROG_TYPE_CGROUP_DEVICE attached to the container's cgroup, as runc and crun do. For
//! each access the kernel gives the program the device type, major, minor and access; the
//! program answers as the v1 list would: the last matching rule decides, no match denies.

use super::devices::{rules, Rule};
use crate::err;
use crate::error::{Error, Result};
use cgroups_rs::devices::DeviceType;
use oci_spec::runtime::Spec;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

/// One eBPF instruction (struct bpf_insn).
#[repr(C)]
#[derive(Clone, Copy)]
struct Insn {
    code: u8,
    regs: u8,
    off: i16,
    imm: i32,
}

const LDX_MEM_W: u8 = 0x61;
const ALU64_AND_K: u8 = 0x57;
const ALU64_RSH_K: u8 = 0x77;
const ALU64_MOV_K: u8 = 0xb7;
const ALU64_MOV_X: u8 = 0xbf;
const JMP_JNE_K: u8 = 0x55;
const EXIT: u8 = 0x95;

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | dst,
        off,
        imm,
    }
}

// BPF_DEVCG_DEV_* and BPF_DEVCG_ACC_*.
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;
const ACC_MKNOD: i32 = 1;
const ACC_READ: i32 = 2;
const ACC_WRITE: i32 = 4;

fn access_bits(access: &str) -> Result<i32> {
    access.chars().try_fold(0, |bits, c| match c {
        'r' => Ok(bits | ACC_READ),
        'w' => Ok(bits | ACC_WRITE),
        'm' => Ok(bits | ACC_MKNOD),
        _ => Err(err!(
            InvalidSpec,
            "invalid device access {:?} in linux.resources.devices",
            access
        )),
    })
}

/// The program: r2 = type, r3 = access, r4 = major, r5 = minor (from struct
/// bpf_cgroup_dev_ctx), then one block per rule, last rule first, each jumping to the next
/// block on a mismatch; no match is a denial.
fn program(rules: &[Rule]) -> Result<Vec<Insn>> {
    let mut p = vec![
        insn(LDX_MEM_W, 2, 1, 0, 0),
        insn(ALU64_AND_K, 2, 0, 0, 0xffff),
        insn(LDX_MEM_W, 3, 1, 0, 0),
        insn(ALU64_RSH_K, 3, 0, 0, 16),
        insn(LDX_MEM_W, 4, 1, 4, 0),
        insn(LDX_MEM_W, 5, 1, 8, 0),
    ];
    for r in rules.iter().rev() {
        let mut checks: Vec<Vec<Insn>> = Vec::new();
        match r.typ {
            DeviceType::Block => checks.push(vec![insn(JMP_JNE_K, 2, 0, 0, DEV_BLOCK)]),
            DeviceType::Char => checks.push(vec![insn(JMP_JNE_K, 2, 0, 0, DEV_CHAR)]),
            DeviceType::All => {}
        }
        let bits = access_bits(&r.access)?;
        if bits != ACC_READ | ACC_WRITE | ACC_MKNOD {
            // Matches when the access asked for is within the rule's: access & !bits == 0.
            checks.push(vec![
                insn(ALU64_MOV_X, 1, 3, 0, 0),
                insn(ALU64_AND_K, 1, 0, 0, !bits),
                insn(JMP_JNE_K, 1, 0, 0, 0),
            ]);
        }
        if r.major >= 0 {
            checks.push(vec![insn(JMP_JNE_K, 4, 0, 0, r.major as i32)]);
        }
        if r.minor >= 0 {
            checks.push(vec![insn(JMP_JNE_K, 5, 0, 0, r.minor as i32)]);
        }
        let unconditional = checks.is_empty();
        let mut block: Vec<Insn> = checks.into_iter().flatten().collect();
        block.push(insn(ALU64_MOV_K, 0, 0, 0, r.allow as i32));
        block.push(insn(EXIT, 0, 0, 0, 0));
        // Every jump goes to the end of the block.
        let len = block.len();
        for (i, ins) in block.iter_mut().enumerate() {
            if ins.code == JMP_JNE_K {
                ins.off = (len - i - 1) as i16;
            }
        }
        p.extend(block);
        // A rule for every device decides everything left (the verifier refuses code that
        // cannot be reached).
        if unconditional {
            return Ok(p);
        }
    }
    p.push(insn(ALU64_MOV_K, 0, 0, 0, 0));
    p.push(insn(EXIT, 0, 0, 0, 0));
    Ok(p)
}

fn bpf(cmd: libc::c_int, attr: &[u8]) -> std::io::Result<i64> {
    // SAFETY: bpf(2) with an attribute buffer of the given size, alive for the call.
    let r = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr.as_ptr(), attr.len() as u32) };
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn put(buf: &mut [u8], off: usize, bytes: &[u8]) {
    buf[off..off + bytes.len()].copy_from_slice(bytes);
}

const BPF_PROG_LOAD: libc::c_int = 5;
const BPF_PROG_ATTACH: libc::c_int = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

fn load_with_log(prog: &[Insn], log: &mut [u8]) -> std::io::Result<i64> {
    let license = c"Apache";
    // union bpf_attr, BPF_PROG_LOAD: prog_type, insn_cnt, insns, license, log_level,
    // log_size, log_buf.
    let mut attr = [0u8; 72];
    put(&mut attr, 0, &BPF_PROG_TYPE_CGROUP_DEVICE.to_ne_bytes());
    put(&mut attr, 4, &(prog.len() as u32).to_ne_bytes());
    put(&mut attr, 8, &(prog.as_ptr() as u64).to_ne_bytes());
    put(&mut attr, 16, &(license.as_ptr() as u64).to_ne_bytes());
    if !log.is_empty() {
        put(&mut attr, 24, &1u32.to_ne_bytes());
        put(&mut attr, 28, &(log.len() as u32).to_ne_bytes());
        put(&mut attr, 32, &(log.as_mut_ptr() as u64).to_ne_bytes());
    }
    bpf(BPF_PROG_LOAD, &attr)
}

fn load(prog: &[Insn]) -> Result<OwnedFd> {
    let fd = load_with_log(prog, &mut []).map_err(|e| {
        // Once more with the verifier's log, for the error (its last lines say why).
        let mut log = vec![0u8; 1 << 16];
        let _ = load_with_log(prog, &mut log);
        let text = String::from_utf8_lossy(&log);
        let text = text.trim_end_matches('\0').trim();
        let tail: Vec<&str> = text.lines().rev().take(3).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        Error::io(
            format!(
                "load the device eBPF program (verifier: {:?})",
                tail.join("; ")
            ),
            e,
        )
    })?;
    // SAFETY: bpf(2) returned a new descriptor, the program, owned by us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Attaches the config's device rules to the cgroup2 directory `dir`, when it has any.
pub fn attach(dir: &Path, spec: &Spec) -> Result<()> {
    if !super::devices::has_rules(spec) {
        return Ok(());
    }
    let prog = match load(&program(&rules(spec))?) {
        Ok(p) => p,
        // Rootless: loading programs is root's; runc goes without the filter too.
        // SAFETY: geteuid cannot fail.
        Err(e) if e.errno() == Some(libc::EPERM) && unsafe { libc::geteuid() } != 0 => {
            return Ok(())
        }
        Err(e) => return Err(e),
    };
    let cg = std::fs::File::open(dir)
        .map_err(|e| Error::io(format!("open cgroup {}", dir.display()), e))?;
    // BPF_PROG_ATTACH: target_fd, attach_bpf_fd, attach_type, attach_flags.
    let mut attr = [0u8; 20];
    put(&mut attr, 0, &(cg.as_raw_fd() as u32).to_ne_bytes());
    put(&mut attr, 4, &(prog.as_raw_fd() as u32).to_ne_bytes());
    put(&mut attr, 8, &BPF_CGROUP_DEVICE.to_ne_bytes());
    put(&mut attr, 12, &BPF_F_ALLOW_MULTI.to_ne_bytes());
    bpf(BPF_PROG_ATTACH, &attr).map_err(|e| {
        Error::io(
            format!("attach the device eBPF program to {}", dir.display()),
            e,
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jumps_stay_inside_the_program() {
        let rules = vec![
            Rule {
                allow: false,
                typ: DeviceType::All,
                major: -1,
                minor: -1,
                access: "rwm".into(),
            },
            Rule {
                allow: true,
                typ: DeviceType::Char,
                major: 1,
                minor: 3,
                access: "rw".into(),
            },
        ];
        let p = program(&rules).unwrap();
        for (i, ins) in p.iter().enumerate() {
            if ins.code == JMP_JNE_K {
                let to = i + 1 + ins.off as usize;
                assert!(to < p.len(), "insn {i} jumps out");
            }
        }
        assert_eq!(p.last().unwrap().code, EXIT);
        assert!(access_bits("rx").is_err());
    }
}
