//! bpf(2): loading an eBPF program and attaching it to a cgroup.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// One eBPF instruction (struct bpf_insn): `regs` holds src << 4 | dst.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Insn {
    pub code: u8,
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

const BPF_PROG_LOAD: libc::c_int = 5;
const BPF_PROG_ATTACH: libc::c_int = 8;

/// bpf(2) command `cmd` with the attribute buffer `attr`.
///
/// # Safety
/// Every pointer inside `attr` must name memory that stays valid for the call, as the command
/// reads it (and writable where the kernel writes, like the verifier's log).
unsafe fn bpf(cmd: libc::c_int, attr: &[u8]) -> io::Result<i64> {
    // SAFETY: bpf(2) reads an attribute buffer of the given size, alive for the call; the
    // pointers inside it are valid, as the caller promises.
    let r = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr.as_ptr(), attr.len() as u32) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn put(buf: &mut [u8], off: usize, bytes: &[u8]) {
    buf[off..off + bytes.len()].copy_from_slice(bytes);
}

/// BPF_PROG_LOAD of `prog` as a program of `prog_type` under `license`; with a non-empty
/// `log`, the verifier writes its log there (log level 1). Returns the program's descriptor.
pub fn prog_load(
    prog_type: u32,
    prog: &[Insn],
    license: &std::ffi::CStr,
    log: &mut [u8],
) -> io::Result<OwnedFd> {
    // union bpf_attr, BPF_PROG_LOAD: prog_type, insn_cnt, insns, license, log_level,
    // log_size, log_buf.
    let mut attr = [0u8; 72];
    put(&mut attr, 0, &prog_type.to_ne_bytes());
    put(&mut attr, 4, &(prog.len() as u32).to_ne_bytes());
    put(&mut attr, 8, &(prog.as_ptr() as u64).to_ne_bytes());
    put(&mut attr, 16, &(license.as_ptr() as u64).to_ne_bytes());
    if !log.is_empty() {
        put(&mut attr, 24, &1u32.to_ne_bytes());
        put(&mut attr, 28, &(log.len() as u32).to_ne_bytes());
        put(&mut attr, 32, &(log.as_mut_ptr() as u64).to_ne_bytes());
    }
    // SAFETY: attr points at `prog`, `license` and `log`, all borrowed (the log mutably) for
    // the call, with the lengths given.
    let fd = unsafe { bpf(BPF_PROG_LOAD, &attr)? };
    // SAFETY: BPF_PROG_LOAD returned a new descriptor, the program, owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// BPF_PROG_ATTACH of the program `prog` to `target` (a cgroup directory) as `attach_type`
/// with `flags` (BPF_F_ALLOW_MULTI, ...).
pub fn prog_attach(
    target: BorrowedFd,
    prog: BorrowedFd,
    attach_type: u32,
    flags: u32,
) -> io::Result<()> {
    // BPF_PROG_ATTACH: target_fd, attach_bpf_fd, attach_type, attach_flags.
    let mut attr = [0u8; 20];
    put(&mut attr, 0, &(target.as_raw_fd() as u32).to_ne_bytes());
    put(&mut attr, 4, &(prog.as_raw_fd() as u32).to_ne_bytes());
    put(&mut attr, 8, &attach_type.to_ne_bytes());
    put(&mut attr, 12, &flags.to_ne_bytes());
    // SAFETY: attr holds integers only (two descriptors the caller borrows), no pointers.
    unsafe { bpf(BPF_PROG_ATTACH, &attr) }.map(|_| ())
}
