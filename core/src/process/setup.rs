//! The init's steps inside the new namespaces, each a named function, in the order of
//! runtime.md: mounts, hooks, pivot_root, the process's identity, then wait for `start` and
//! hand over to the workload (`crate::workload`), whatever it is.

use super::identity;
use super::message::{Common, CreateConfig, ExecConfig, FromInit, InitEnd, ToInit};
use crate::err;
use crate::error::Result;
use crate::hooks::{self, Point};
use crate::program::{lookup, Program};
use crate::security::user;
use crate::sys::syscall::Syscall;
use crate::{rootfs, sys, tty, workload};
use oci_spec::runtime::{LinuxNamespaceType, Process, Spec};
use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Create mode: set the container up, report Ready, wait for `start`, run the workload.
pub fn create(
    os: &dyn Syscall,
    cfg: &CreateConfig,
    fds: Vec<OwnedFd>,
    ch: &InitEnd,
) -> Result<i32> {
    let common = &cfg.common;
    let spec = &common.spec;
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| err!(InvalidSpec, "process is missing"))?;
    sys::prctl(libc::PR_SET_DUMPABLE, 0, "make rune init non-dumpable")?;
    let floor = 3 + common.preserve_fds;
    let fds: Vec<OwnedFd> = fds
        .into_iter()
        .map(|fd| above(fd, floor))
        .collect::<Result<_>>()?;
    let mut fds = fds.into_iter();
    let fifo = fds
        .next()
        .ok_or_else(|| err!(Internal, "create without its exec fifo"))?;
    let mut workload = workload::select(&cfg.workload, &mut fds)?;
    let sources: HashMap<usize, OwnedFd> = cfg.bind_fds.iter().copied().zip(fds).collect();
    // Nothing of the caller's beyond stdio, the preserved fds and what rune passed on stays
    // open: an enclave keeper never execs, so close-on-exec alone would not do (CVE-2024-21626).
    let mut keep = vec![ch.channel().raw(), fifo.as_raw_fd()];
    keep.extend(workload.fds());
    keep.extend(sources.values().map(|fd| fd.as_raw_fd()));
    // SAFETY: every descriptor this process owns from the floor up is in `keep` (the channel,
    // the fifo, the workload's, the bind sources); the others are the caller's, owned by
    // nothing here.
    #[allow(unsafe_code)]
    unsafe { sys::close_fds_from(floor, &keep) }?;
    workload.load()?;
    let has_mntns = has_ns(spec, LinuxNamespaceType::Mount);
    if has_mntns {
        make_mounts(os, cfg, &sources)?;
    }
    drop(sources);
    let state = hooks_round_trip(spec, ch)?;
    // Before the root switch, in the container's root, as runc runs them.
    let hook_env = process.env().clone().unwrap_or_default();
    hooks::run_in(
        Point::CreateContainer,
        &Point::CreateContainer.of(spec),
        &state,
        Some(&common.rootfs),
        Some(&hook_env),
    )?;
    enter_root(os, cfg, has_mntns)?;
    crate::namespaces::set_names(os, spec)?;
    if process.terminal().unwrap_or(false) {
        console(process, ch)?;
    }
    rootfs::finish(os, spec)?;
    // Last: an unbindable / would refuse the binds of readonlyPaths that finish makes.
    if has_mntns {
        rootfs::set_root_propagation(os, spec)?;
    }
    if !cfg.no_new_keyring {
        sys::session::join_session_keyring(&cfg.id);
    }
    let program = prepare_process(process, common, &|n, e| workload.resolve(n, e), ch)?;
    let calling = |call: &str| {
        ch.send(&FromInit::Calling {
            call: call.to_string(),
        })
    };
    let pal_version = workload.ready(&calling)?;
    sys::fdpass::cloexec_from(floor);
    sys::prctl(libc::PR_SET_PDEATHSIG, 0, "clear the parent-death signal")?;
    ch.send(&FromInit::Ready { pal_version })?;
    // Kept open (close-on-exec) until the program runs: `start` waits for the last reader to
    // go before it runs the poststart hooks.
    sys::fifo::wait_byte(fifo.as_fd())?;
    hooks::run_in(
        Point::StartContainer,
        &Point::StartContainer.of(spec),
        &state,
        None,
        Some(&hook_env),
    )?;
    workload.run(program, fifo)
}

/// The container's mounts, in its own mount namespace, before its root is entered.
fn make_mounts(
    os: &dyn Syscall,
    cfg: &CreateConfig,
    sources: &HashMap<usize, OwnedFd>,
) -> Result<()> {
    let (spec, root) = (&cfg.common.spec, &cfg.common.rootfs);
    rootfs::prepare_root(os, spec, root)?;
    rootfs::mount_all(os, spec, root, &cfg.bundle, &cfg.cgroup_paths, sources)?;
    rootfs::setup_dev(os, spec, root, has_ns(spec, LinuxNamespaceType::User))?;
    rootfs::finish_dev(os, spec, root)
}

/// pivot_root (or chroot with --no-pivot) into the rootfs.
fn enter_root(os: &dyn Syscall, cfg: &CreateConfig, has_mntns: bool) -> Result<()> {
    let root = &cfg.common.rootfs;
    if has_mntns {
        return rootfs::enter(os, root, cfg.no_pivot);
    }
    // As runc: the rootfs is bound onto itself even without a mount namespace of its own (in
    // the caller's, where it stays: the tools that unmount the rootfs afterwards expect that
    // mount), then entered with chroot.
    os.mount(
        Some(root),
        root,
        None,
        libc::MS_BIND | libc::MS_REC,
        None,
        &|| format!("bind the rootfs {} onto itself", root.display()),
    )?;
    chroot(os, root)
}

fn chroot(os: &dyn Syscall, root: &Path) -> Result<()> {
    os.chroot(root, &|| "chroot into the rootfs".into())?;
    os.chdir(Path::new("/"), &|| "chdir /".into())
}

/// Exec mode (the Setup stage, namespaces already joined): run one more process in the container.
pub fn exec(os: &dyn Syscall, cfg: &ExecConfig, ch: &InitEnd) -> Result<i32> {
    let common = &cfg.common;
    sys::prctl(libc::PR_SET_DUMPABLE, 0, "make rune init non-dumpable")?;
    // No descriptor of the caller's may be open when the cwd is entered (CVE-2024-21626).
    // SAFETY: exec's the Setup stage owns only its channel from the floor up.
    #[allow(unsafe_code)]
    unsafe { sys::close_fds_from(3 + common.preserve_fds, &[ch.channel().raw()]) }?;
    if !has_ns(&common.spec, LinuxNamespaceType::Mount) {
        // The container has no mount namespace to join: its root is a chroot, entered again.
        chroot(os, &common.rootfs)?;
    }
    if cfg.process.terminal().unwrap_or(false) {
        console(&cfg.process, ch)?;
    }
    let program = prepare_process(&cfg.process, common, &lookup, ch)?;
    sys::fdpass::cloexec_from(3 + common.preserve_fds);
    // The channel is close-on-exec: the host sees EOF once execve succeeded.
    Err(program.exec())
}

fn has_ns(spec: &Spec, t: LinuxNamespaceType) -> bool {
    spec.linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|v| v.iter().any(|n| n.typ() == t))
}

/// Moves an fd at or above `floor`, so it cannot sit in the range passed to the container.
fn above(fd: OwnedFd, floor: i32) -> Result<OwnedFd> {
    if fd.as_raw_fd() >= floor {
        return Ok(fd);
    }
    sys::fdpass::dup_above(fd.as_fd(), floor, "fd")
}

/// Asks the host to run the prestart and createRuntime hooks; returns the state JSON the
/// container's own hooks get.
fn hooks_round_trip(spec: &Spec, ch: &InitEnd) -> Result<String> {
    let needed = [
        Point::Prestart,
        Point::CreateRuntime,
        Point::CreateContainer,
        Point::StartContainer,
    ]
    .iter()
    .any(|p| !p.of(spec).is_empty());
    if !needed {
        return Ok(String::new());
    }
    ch.send(&FromInit::Hooks)?;
    match ch.recv()? {
        Some((ToInit::HooksDone { state }, _)) => Ok(state),
        // The host gave up (a hook failed): it reports its own error; leave quietly.
        None => Err(super::message::host_gone()),
        Some((other, _)) => Err(err!(Internal, "expected HooksDone, got {:?}", other)),
    }
}

fn console(process: &Process, ch: &InitEnd) -> Result<()> {
    let size = process
        .console_size()
        .as_ref()
        .map(|b| (b.height() as u16, b.width() as u16));
    let master = tty::open_pty(size, process.user().uid())?;
    ch.send_with_fds(&FromInit::Console, &[master.as_raw_fd()])
}

/// The process's identity (`identity.rs`), then its program, resolved by `resolve` as the
/// user, so that a missing executable fails `create` and not `start`.
fn prepare_process(
    process: &Process,
    cfg: &Common,
    resolve: &dyn Fn(&str, &[String]) -> Result<PathBuf>,
    ch: &InitEnd,
) -> Result<Program> {
    let id = identity::Kernel { ch };
    identity::assume(&id, &cfg.spec, process)?;
    let mut env: Vec<String> = process.env().clone().unwrap_or_default();
    env.extend(cfg.extra_env.iter().cloned());
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!("HOME={}", user::home_of(process.user().uid())));
    }
    let args = process.args().clone().unwrap_or_default();
    let path = resolve(&args[0], &env)?;
    identity::finish(&id, &cfg.spec, process)?;
    Program::new(&path, &args, &env)
}

#[cfg(test)]
#[path = "setup_tests.rs"]
mod tests;
