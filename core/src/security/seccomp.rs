//! seccomp filters from `linux.seccomp`, built and loaded with libseccomp as runc does:
//! unknown syscall names are skipped, rules matching the default action are dropped, several
//! conditions on one argument become separate rules (OR), others one rule (AND).

use crate::err;
use crate::error::{Context, Error, Result};
use crate::sys::seccomp as sys;
use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use oci_spec::runtime::{LinuxSeccomp, LinuxSeccompOperator};
use std::os::fd::OwnedFd;
use std::str::FromStr;

fn name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

fn seccomp_err(what: &str, e: libseccomp::error::SeccompError) -> Error {
    let errno = e.errno().map(|e| e as i32);
    Error::new(crate::ErrorKind::Os, format!("seccomp: {}: {}", what, e)).with_errno(errno)
}

fn action(name: &str, errno_ret: Option<u32>, default_errno: Option<u32>) -> Result<ScmpAction> {
    let errno = errno_ret.or(default_errno).unwrap_or(libc::EPERM as u32) as i32;
    Ok(match name {
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => ScmpAction::KillThread,
        "SCMP_ACT_KILL_PROCESS" => ScmpAction::KillProcess,
        "SCMP_ACT_TRAP" => ScmpAction::Trap,
        "SCMP_ACT_ERRNO" => ScmpAction::Errno(errno),
        "SCMP_ACT_TRACE" => ScmpAction::Trace(errno as u16),
        "SCMP_ACT_ALLOW" => ScmpAction::Allow,
        "SCMP_ACT_LOG" => ScmpAction::Log,
        "SCMP_ACT_NOTIFY" => ScmpAction::Notify,
        other => return Err(err!(InvalidSpec, "seccomp: unknown action {:?}", other)),
    })
}

fn op(o: LinuxSeccompOperator, value_two: Option<u64>, value: u64) -> (ScmpCompareOp, u64) {
    match o {
        LinuxSeccompOperator::ScmpCmpNe => (ScmpCompareOp::NotEqual, value),
        LinuxSeccompOperator::ScmpCmpLt => (ScmpCompareOp::Less, value),
        LinuxSeccompOperator::ScmpCmpLe => (ScmpCompareOp::LessOrEqual, value),
        LinuxSeccompOperator::ScmpCmpEq => (ScmpCompareOp::Equal, value),
        LinuxSeccompOperator::ScmpCmpGe => (ScmpCompareOp::GreaterEqual, value),
        LinuxSeccompOperator::ScmpCmpGt => (ScmpCompareOp::Greater, value),
        // OCI: value is the mask, valueTwo the datum.
        LinuxSeccompOperator::ScmpCmpMaskedEq => {
            (ScmpCompareOp::MaskedEqual(value), value_two.unwrap_or(0))
        }
    }
}

/// True when the filter has a notify action anywhere (then a listener gets its fd).
pub fn uses_notify(s: &LinuxSeccomp) -> bool {
    name(&s.default_action()) == "SCMP_ACT_NOTIFY"
        || s.syscalls()
            .iter()
            .flatten()
            .any(|c| name(&c.action()) == "SCMP_ACT_NOTIFY")
}

/// Builds the filter (checking every part) without loading it.
pub fn build(s: &LinuxSeccomp) -> Result<ScmpFilterContext> {
    let default_errno = s.default_errno_ret();
    let default = action(&name(&s.default_action()), None, default_errno)?;
    let mut ctx = ScmpFilterContext::new(default).map_err(|e| seccomp_err("create filter", e))?;
    // rune sets no_new_privs itself when the config asks for it.
    ctx.set_ctl_nnp(false)
        .map_err(|e| seccomp_err("no_new_privs attribute", e))?;
    for a in s.architectures().iter().flatten() {
        let n = name(a);
        let arch = ScmpArch::from_str(&n)
            .map_err(|_| err!(InvalidSpec, "seccomp: unknown architecture {:?}", n))?;
        match ctx.add_arch(arch) {
            Ok(_) => {}
            Err(e) if e.errno() == Some(libseccomp::error::SeccompErrno::EEXIST) => {}
            Err(e) => return Err(seccomp_err(&format!("add architecture {}", n), e)),
        }
    }
    for f in s.flags().iter().flatten() {
        let n = name(f);
        let r = match n.as_str() {
            "SECCOMP_FILTER_FLAG_LOG" => ctx.set_ctl_log(true),
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW" => ctx.set_ctl_ssb(true),
            // libseccomp before 2.6 does not know it: `load` passes it to the kernel itself.
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" => Ok(&mut ctx),
            "SECCOMP_FILTER_FLAG_TSYNC" => ctx.set_ctl_tsync(true),
            other => return Err(err!(InvalidSpec, "seccomp: unknown flag {:?}", other)),
        };
        r.map_err(|e| {
            seccomp_err(
                &format!("flag {} (libseccomp {})", n, libseccomp_version()),
                e,
            )
        })?;
    }
    for call in s.syscalls().iter().flatten() {
        let act = action(&name(&call.action()), call.errno_ret(), default_errno)?;
        if act == default {
            continue;
        }
        let conds: Vec<ScmpArgCompare> = call
            .args()
            .iter()
            .flatten()
            .map(|a| {
                let (o, datum) = op(a.op(), a.value_two(), a.value());
                ScmpArgCompare::new(a.index() as u32, o, datum)
            })
            .collect();
        let mut indices: Vec<usize> = call.args().iter().flatten().map(|a| a.index()).collect();
        indices.sort_unstable();
        let repeated = indices.windows(2).any(|w| w[0] == w[1]);
        for n in call.names() {
            check_notify(n, act)?;
            // Unknown names (newer kernels' syscalls) are skipped, as runc does.
            let sc = match ScmpSyscall::from_name(n) {
                Ok(sc) => sc,
                Err(_) => continue,
            };
            let r = if conds.is_empty() {
                ctx.add_rule(act, sc).map(|_| ())
            } else if repeated {
                conds
                    .iter()
                    .try_for_each(|c| ctx.add_rule_conditional(act, sc, &[*c]).map(|_| ()))
            } else {
                ctx.add_rule_conditional(act, sc, &conds).map(|_| ())
            };
            r.map_err(|e| seccomp_err(&format!("add rule for {}", n), e))?;
        }
    }
    Ok(ctx)
}

/// The version of the libseccomp rune runs with, e.g. "2.5.4".
pub fn libseccomp_version() -> String {
    libseccomp::ScmpVersion::current()
        .map(|v| format!("{}.{}.{}", v.major, v.minor, v.micro))
        .unwrap_or_else(|_| "?".into())
}

fn has_flag(s: &LinuxSeccomp, flag: &str) -> bool {
    s.flags().iter().flatten().any(|f| name(f) == flag)
}

/// Loads the filter into this process; returns the notify fd when the filter has one.
pub fn load(s: &LinuxSeccomp) -> Result<Option<OwnedFd>> {
    let ctx = build(s)?;
    let allows = matches!(
        name(&s.default_action()).as_str(),
        "SCMP_ACT_ALLOW" | "SCMP_ACT_LOG"
    );
    let mut prog = super::seccomp_enosys::stub(s, allows);
    prog.extend(export(&ctx)?);
    load_raw(s, &prog, uses_notify(s))
}

/// Syscalls rune itself makes to hand the notify fd over and go on: notifying them would
/// leave the init waiting for an agent that never got the fd (runc refuses `write` likewise).
const NOT_NOTIFIABLE: [&str; 3] = ["write", "sendmsg", "sendto"];

fn check_notify(call: &str, act: ScmpAction) -> Result<()> {
    if act == ScmpAction::Notify && NOT_NOTIFIABLE.contains(&call) {
        return Err(err!(
            InvalidSpec,
            "seccomp: SCMP_ACT_NOTIFY cannot be used for the {} syscall (rune needs it to hand \
             the notify fd to the agent)",
            call
        ));
    }
    Ok(())
}

/// The filter flags this kernel takes (the features document's `supportedFlags`), probed as
/// runc does: seccomp(2) with no program fails with EFAULT once the flags pass its check.
pub fn supported_flags() -> Vec<&'static str> {
    [
        ("SECCOMP_FILTER_FLAG_TSYNC", 1),
        ("SECCOMP_FILTER_FLAG_LOG", 1 << 1),
        ("SECCOMP_FILTER_FLAG_SPEC_ALLOW", 1 << 2),
        // Only valid with a listener.
        (
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
            (1 << 5) | sys::FLAG_NEW_LISTENER,
        ),
    ]
    .into_iter()
    .filter(|(_, flags)| sys::flags_supported(*flags))
    .map(|(name, _)| name)
    .collect()
}

/// Loads `prog` with seccomp(2) directly: the ENOSYS stub before libseccomp's program, and the
/// flags libseccomp cannot pass (it knows WAIT_KILLABLE_RECV from 2.6 on); NEW_LISTENER with
/// `notify`. Returns the notify fd.
fn load_raw(s: &LinuxSeccomp, prog: &[libc::sock_filter], notify: bool) -> Result<Option<OwnedFd>> {
    const TSYNC: libc::c_ulong = 1;
    const LOG: libc::c_ulong = 1 << 1;
    const SPEC_ALLOW: libc::c_ulong = 1 << 2;
    const WAIT_KILLABLE_RECV: libc::c_ulong = 1 << 5;
    let mut flags = if notify { sys::FLAG_NEW_LISTENER } else { 0 };
    for (name, bit) in [
        ("SECCOMP_FILTER_FLAG_TSYNC", TSYNC),
        ("SECCOMP_FILTER_FLAG_LOG", LOG),
        ("SECCOMP_FILTER_FLAG_SPEC_ALLOW", SPEC_ALLOW),
        ("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", WAIT_KILLABLE_RECV),
    ] {
        // WAIT_KILLABLE_RECV only means something (and is only valid) with a listener.
        if has_flag(s, name) && (notify || bit != WAIT_KILLABLE_RECV) {
            flags |= bit;
        }
    }
    if u16::try_from(prog.len()).is_err() {
        return Err(err!(InvalidSpec, "seccomp: the filter is too long"));
    }
    sys::load_filter(prog, flags).map_err(|e| {
        let hint = if e.raw_os_error() == Some(libc::EINVAL) {
            " (flags refused: WAIT_KILLABLE_RECV needs Linux 5.19, TSYNC excludes a listener)"
        } else {
            ""
        };
        Error::io(format!("seccomp: load filter{}", hint), e)
    })
}

/// The filter as the kernel's BPF program (an array of sock_filter), through a memfd.
fn export(ctx: &ScmpFilterContext) -> Result<Vec<libc::sock_filter>> {
    use std::io::{Read, Seek};
    let fd = sys::memfd(c"rune-seccomp-bpf").context("seccomp: memfd")?;
    let mut f = std::fs::File::from(fd);
    ctx.export_bpf(&f)
        .map_err(|e| seccomp_err("export the filter", e))?;
    let mut bytes = Vec::new();
    f.rewind()
        .and_then(|_| f.read_to_end(&mut bytes))
        .map_err(|e| Error::io("seccomp: read the exported filter", e))?;
    Ok(bytes
        .chunks_exact(std::mem::size_of::<libc::sock_filter>())
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    fn seccomp(json: &str) -> oci_spec::runtime::LinuxSeccomp {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn builds_rules_and_skips_unknown_names() {
        let s = seccomp(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],
                "syscalls":[{"names":["mkdir","no_such_syscall_xyz"],"action":"SCMP_ACT_ERRNO","errnoRet":1},
                            {"names":["getpid"],"action":"SCMP_ACT_ALLOW"},
                            {"names":["personality"],"action":"SCMP_ACT_ERRNO",
                             "args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"},{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]}]}"#,
        );
        assert!(super::build(&s).is_ok());
        assert!(!super::uses_notify(&s));
    }

    #[test]
    fn unknown_action_is_an_error() {
        let bad: Result<oci_spec::runtime::LinuxSeccomp, _> =
            serde_json::from_str(r#"{"defaultAction":"SCMP_ACT_NOPE"}"#);
        assert!(bad.is_err());
    }
}
