//! runc's -ENOSYS stub: a profile written before a syscall existed must make that syscall
//! fail with ENOSYS (which glibc and Go take as "not implemented here, fall back"), not with the
//! profile's default errno (EPERM, which they take as a refusal). A few BPF instructions put
//! before libseccomp's program return ENOSYS, per architecture, for every syscall number
//! above the highest one the profile names.

use libseccomp::{ScmpArch, ScmpSyscall};
use oci_spec::runtime::LinuxSeccomp;

const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
const AUDIT_ARCH_I386: u32 = 0x4000_0003;
/// x32 calls come in as x86-64 with this bit set: left to libseccomp's program.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

// Classic BPF opcodes (linux/filter.h).
const LD_W_ABS: u16 = 0x20;
const JEQ_K: u16 = 0x15;
const JGE_K: u16 = 0x35;
const JGT_K: u16 = 0x25;
const RET_K: u16 = 0x06;
/// seccomp_data: nr at offset 0, arch at 4.
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
const RET_ERRNO: u32 = 0x0005_0000;

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// The highest syscall number the profile names for `arch`, if it names any there.
fn highest(s: &LinuxSeccomp, arch: ScmpArch) -> Option<u32> {
    s.syscalls()
        .iter()
        .flatten()
        .flat_map(|c| c.names().iter())
        .filter_map(|n| ScmpSyscall::from_name_by_arch(n, arch).ok())
        .map(i32::from)
        .filter(|nr| *nr >= 0)
        .map(|nr| nr as u32)
        .max()
}

/// The stub for the profile, empty where none is needed (an allowing default action lets
/// unknown syscalls through already).
pub fn stub(s: &LinuxSeccomp, default_allows: bool) -> Vec<libc::sock_filter> {
    if default_allows {
        return Vec::new();
    }
    let mut arches = vec![(ScmpArch::X8664, AUDIT_ARCH_X86_64)];
    let listed = |n: &str| {
        s.architectures().iter().flatten().any(|a| {
            serde_json::to_value(a)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                == Some(n.to_string())
        })
    };
    if listed("SCMP_ARCH_X86") {
        arches.push((ScmpArch::X86, AUDIT_ARCH_I386));
    }
    let mut prog = Vec::new();
    for (arch, audit) in arches {
        let Some(max) = highest(s, arch) else {
            continue;
        };
        prog.extend([
            insn(LD_W_ABS, 0, 0, OFF_ARCH),
            // Another architecture: skip this block.
            insn(JEQ_K, 0, 4, audit),
            insn(LD_W_ABS, 0, 0, OFF_NR),
            // x32: not ours to judge.
            insn(JGE_K, 2, 0, X32_SYSCALL_BIT),
            // Known to the profile: on to libseccomp's program.
            insn(JGT_K, 0, 1, max),
            insn(RET_K, 0, 0, RET_ERRNO | libc::ENOSYS as u32),
        ]);
    }
    prog
}

#[cfg(test)]
mod tests {
    fn seccomp(json: &str) -> oci_spec::runtime::LinuxSeccomp {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_block_per_architecture_above_the_highest_known_syscall() {
        let s = seccomp(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],
                "syscalls":[{"names":["read","write","getpid"],"action":"SCMP_ACT_ALLOW"}]}"#,
        );
        let p = super::stub(&s, false);
        assert_eq!(p.len(), 12);
        // getpid is 39 on x86-64, 20 on i386: the highest of the three names on each.
        assert_eq!(p[4].k, 39);
        assert_eq!(p[10].k, 20);
        assert_eq!(p[5].k, 0x0005_0000 | libc::ENOSYS as u32);
        assert!(super::stub(&s, true).is_empty());
    }
}
