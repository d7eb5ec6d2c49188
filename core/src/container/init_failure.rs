//! Why a container init went away during create or exec: the signal or exit code, the enclave
//! runtime call it was in, and the OOM killer of the container's own memory limit.

use crate::cgroups::CgroupManager;
use crate::err;
use crate::error::Error;
use crate::process::{spawn, wait_exit, ExitStatus};

/// Why the init closed the channel without a word; `calling` names the enclave runtime call
/// it was in, if any.
pub(crate) fn died(child: &spawn::Child, pid: i32, calling: Option<&str>) -> Error {
    if let Some(e) = child.pre_exec_error() {
        return e;
    }
    let how = match wait_exit(pid) {
        Ok(ExitStatus::Signaled(sig)) => format!("killed by signal {} ({})", sig, signal_name(sig)),
        Ok(ExitStatus::Exited(code)) => format!("exited with code {}", code),
        Err(e) => e.to_string(),
    };
    match calling {
        Some(call) => err!(
            Enclave,
            "enclave runtime crashed in {}(): the container init was {}",
            call,
            how
        ),
        None => err!(Internal, "container init exited unexpectedly: {}", how),
    }
}

/// An init killed by the OOM killer of its own cgroup: the memory limit is named.
pub(crate) fn oom_hint(
    e: Error,
    cg: Option<&dyn CgroupManager>,
    spec: &oci_spec::runtime::Spec,
) -> Error {
    let limit = spec
        .linux()
        .as_ref()
        .and_then(|l| l.resources().as_ref())
        .and_then(|r| r.memory().as_ref())
        .and_then(|m| m.limit());
    match (cg, limit) {
        (Some(cg), Some(limit)) if limit > 0 && cg.oom_kills() > 0 => err!(
            InvalidSpec,
            "{}: the OOM killer ended it: linux.resources.memory.limit ({} bytes) is too small \
             for the container to start",
            e.message(),
            limit
        ),
        _ => e,
    }
}

/// The description of `sig`, with its name for the signals a crash or a kill gives.
fn signal_name(sig: i32) -> String {
    let crash = [
        libc::SIGSEGV,
        libc::SIGABRT,
        libc::SIGBUS,
        libc::SIGKILL,
        libc::SIGILL,
        libc::SIGFPE,
    ];
    let desc = crate::sys::signal::description(sig);
    if crash.contains(&sig) {
        format!("{}: {}", crate::sys::signal::abbrev(sig), desc)
    } else {
        desc
    }
}
