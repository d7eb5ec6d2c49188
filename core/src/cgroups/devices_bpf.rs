//! The device rules on cgroup v2, which has no devices controller: an eBPF program of type
//! BPF_PROG_TYPE_CGROUP_DEVICE attached to the container's cgroup, as runc and crun do. For
//! each access the kernel gives the program the device type, major, minor and access; the
//! program answers as the v1 list would: the last matching rule decides, no match denies.

use super::devices::{rules, Rule};
use crate::err;
use crate::error::{Error, Result};
use crate::sys::bpf::{self, Insn};
use cgroups_rs::devices::DeviceType;
use oci_spec::runtime::Spec;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

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

const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

fn load_with_log(prog: &[Insn], log: &mut [u8]) -> std::io::Result<OwnedFd> {
    bpf::prog_load(BPF_PROG_TYPE_CGROUP_DEVICE, prog, c"Apache", log)
}

fn load(prog: &[Insn]) -> Result<OwnedFd> {
    load_with_log(prog, &mut []).map_err(|e| {
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
    })
}

/// Attaches the config's device rules to the cgroup2 directory `dir`, when it has any.
pub fn attach(dir: &Path, spec: &Spec) -> Result<()> {
    if !super::devices::has_rules(spec) {
        return Ok(());
    }
    let prog = match load(&program(&rules(spec))?) {
        Ok(p) => p,
        // Rootless: loading programs is root's; runc goes without the filter too.
        Err(e) if e.errno() == Some(libc::EPERM) && crate::sys::euid() != 0 => return Ok(()),
        Err(e) => return Err(e),
    };
    let cg = std::fs::File::open(dir)
        .map_err(|e| Error::io(format!("open cgroup {}", dir.display()), e))?;
    bpf::prog_attach(
        cg.as_fd(),
        prog.as_fd(),
        BPF_CGROUP_DEVICE,
        BPF_F_ALLOW_MULTI,
    )
    .map_err(|e| {
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
