//! The process's identity, in the order runc gives it: rlimits, OOM score, the seccomp filter
//! (early without no_new_privs: loading it then needs CAP_SYS_ADMIN), the cwd entered while
//! still root, LSM attributes, the capability bounding set, the user switch between
//! PR_SET_KEEPCAPS on and off, the capability sets, non-dumpable, no_new_privs, umask, the cwd
//! again where root could not enter it, and last the exec-time attributes and a late filter.
//! The steps go through [`Identity`], so that their order is unit-tested without root.

use super::message::{FromInit, InitEnd};
use crate::error::{Context, Result};
use crate::security::{capabilities, process_attrs, rlimits, user};
use crate::sys;
use oci_spec::runtime::{LinuxCapabilities, PosixRlimit, Process, Spec, User};
use std::path::Path;

/// The identity steps of a container process.
pub trait Identity {
    fn rlimits(&self, limits: &[PosixRlimit]) -> Result<()>;
    fn oom_score_adj(&self, adj: i32) -> Result<()>;
    /// Loads the config's seccomp filter (a notify fd goes to the host at once).
    fn seccomp(&self, spec: &Spec) -> Result<()>;
    /// Makes a missing cwd, as runc does (as root; a failure shows when it is entered).
    fn make_cwd(&self, cwd: &Path);
    /// Enters the cwd, refused outside the container's root (CVE-2024-21626).
    fn enter_cwd(&self, cwd: &Path) -> Result<()>;
    /// apparmor, SELinux, scheduler, I/O priority: what needs privileges.
    fn privileged_attrs(&self, spec: &Spec, process: &Process) -> Result<()>;
    fn bounding_set(&self, caps: &LinuxCapabilities) -> Result<()>;
    fn prctl(&self, op: i32, arg: libc::c_ulong, what: &str) -> Result<()>;
    fn switch_user(&self, user: &User) -> Result<()>;
    fn capability_sets(&self, caps: &LinuxCapabilities) -> Result<()>;
    fn umask(&self, mask: libc::mode_t);
    /// What must come right before execve (the exec label, personality).
    fn last_attrs(&self, process: &Process) -> Result<()>;
}

/// The process's identity up to the program's lookup (which runs as the user): every step
/// but the last ones ([`finish`]).
pub fn assume(id: &dyn Identity, spec: &Spec, process: &Process) -> Result<()> {
    if let Some(rl) = process.rlimits() {
        id.rlimits(rl)?;
    }
    if let Some(adj) = process.oom_score_adj() {
        id.oom_score_adj(adj)?;
    }
    let empty = Default::default();
    let caps = process.capabilities().as_ref().unwrap_or(&empty);
    let nnp = process.no_new_privileges().unwrap_or(false);
    // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it before the
    // capabilities go; with it, as late as this allows (`finish`).
    if !nnp {
        id.seccomp(spec)?;
    }
    id.make_cwd(process.cwd());
    // As runc: the cwd is entered while still root (a directory only root may enter works),
    // and once more as the user only where root could not (a root-squashed NFS cwd).
    let entered = id.enter_cwd(process.cwd());
    id.privileged_attrs(spec, process)?;
    id.bounding_set(caps)?;
    id.prctl(libc::PR_SET_KEEPCAPS, 1, "keep capabilities")?;
    id.switch_user(process.user())?;
    id.prctl(libc::PR_SET_KEEPCAPS, 0, "clear keep-capabilities")?;
    id.capability_sets(caps)?;
    id.prctl(libc::PR_SET_DUMPABLE, 0, "make rune init non-dumpable")?;
    if nnp {
        id.prctl(libc::PR_SET_NO_NEW_PRIVS, 1, "set no_new_privs")?;
    }
    id.umask(process.user().umask().unwrap_or(0o022) as libc::mode_t);
    if entered.is_err() {
        id.enter_cwd(process.cwd())?;
    }
    Ok(())
}

/// The last steps, right before the program runs: exec-time attributes, then the filter when
/// no_new_privs let it wait.
pub fn finish(id: &dyn Identity, spec: &Spec, process: &Process) -> Result<()> {
    id.last_attrs(process)?;
    if process.no_new_privileges().unwrap_or(false) {
        id.seccomp(spec)?;
    }
    Ok(())
}

/// The real steps, in an init whose channel is `ch`.
pub struct Kernel<'a> {
    pub ch: &'a InitEnd,
}

impl Identity for Kernel<'_> {
    fn rlimits(&self, limits: &[PosixRlimit]) -> Result<()> {
        rlimits::apply(limits)
    }

    fn oom_score_adj(&self, adj: i32) -> Result<()> {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string())
            .with_context(|| format!("set oom_score_adj {}", adj))
    }

    fn seccomp(&self, spec: &Spec) -> Result<()> {
        load_seccomp(spec, self.ch)
    }

    fn make_cwd(&self, cwd: &Path) {
        if cwd.is_absolute() && !cwd.exists() {
            let _ = std::fs::create_dir_all(cwd);
        }
    }

    fn enter_cwd(&self, cwd: &Path) -> Result<()> {
        sys::enter_cwd(cwd)
    }

    fn privileged_attrs(&self, spec: &Spec, process: &Process) -> Result<()> {
        process_attrs::apply_privileged(spec, process)
    }

    fn bounding_set(&self, caps: &LinuxCapabilities) -> Result<()> {
        capabilities::apply_bounding(caps)
    }

    fn prctl(&self, op: i32, arg: libc::c_ulong, what: &str) -> Result<()> {
        sys::prctl(op, arg, what)
    }

    fn switch_user(&self, u: &User) -> Result<()> {
        user::switch(u)
    }

    fn capability_sets(&self, caps: &LinuxCapabilities) -> Result<()> {
        capabilities::apply_sets(caps)
    }

    fn umask(&self, mask: libc::mode_t) {
        sys::session::umask(mask)
    }

    fn last_attrs(&self, process: &Process) -> Result<()> {
        process_attrs::apply_last(process)
    }
}

/// Loads the config's filter; a notify fd goes to the host (for the listener) at once, before
/// the init makes any other system call the filter could hold back.
#[cfg(feature = "seccomp")]
fn load_seccomp(spec: &Spec, ch: &InitEnd) -> Result<()> {
    use std::os::fd::AsRawFd;
    let fd = match spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) {
        Some(s) => crate::security::seccomp::load(s)?,
        None => None,
    };
    match fd {
        Some(fd) => ch.send_with_fds(&FromInit::Seccomp, &[fd.as_raw_fd()]),
        None => Ok(()),
    }
}

#[cfg(not(feature = "seccomp"))]
fn load_seccomp(spec: &Spec, _ch: &InitEnd) -> Result<()> {
    match spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) {
        Some(_) => Err(crate::err!(
            InvalidSpec,
            "seccomp: this rune was built without seccomp support"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
#[path = "identity_tests.rs"]
mod tests;
