//! The init's steps inside the new namespaces, in the order of runtime.md: mounts, hooks,
//! pivot_root, the process's identity, then wait for `start` and hand over to the workload
//! (`crate::workload`), whatever it is. Create's steps are the `CreateSteps` seam, taken by
//! `create_in_order` (their real implementation: `create_steps.rs`); exec's are below.

use super::identity;
use super::message::{Common, CreateConfig, ExecConfig, FromInit, InitEnd, ToInit};
use crate::err;
use crate::error::Result;
use crate::hooks::Point;
use crate::program::{lookup, Program};
use crate::security::user;
use crate::sys::syscall::Syscall;
use crate::{rootfs, sys, tty};
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
    let process = cfg
        .common
        .spec
        .process()
        .as_ref()
        .ok_or_else(|| err!(InvalidSpec, "process is missing"))?;
    let mut steps = super::create_steps::Kernel::new(os, cfg, process, fds, ch)?;
    create_in_order(&mut steps, cfg, process)
}

/// The steps of create mode, one method each, in the order [`create_in_order`] takes them:
/// the seam that lets a unit test check the order and which steps a config asks for.
pub(super) trait CreateSteps {
    /// Not dumpable from here on: the init is seen in the container's namespaces.
    fn seal(&mut self) -> Result<()>;
    /// Closes what the caller left open, but for what rune passed on.
    fn close_inherited(&mut self) -> Result<()>;
    /// The workload's first step, while host paths still resolve.
    fn load_workload(&mut self) -> Result<()>;
    /// The config's mounts and /dev (only in a mount namespace of the container's own).
    fn mounts(&mut self) -> Result<()>;
    /// The host runs prestart and createRuntime; the state the container's hooks get.
    fn host_hooks(&mut self) -> Result<()>;
    fn create_container_hooks(&mut self) -> Result<()>;
    /// pivot_root (or chroot) into the rootfs.
    fn enter_root(&mut self, has_mntns: bool) -> Result<()>;
    fn set_names(&mut self) -> Result<()>;
    /// The pty, to the host (only with process.terminal).
    fn console(&mut self) -> Result<()>;
    /// sysctls, read-only and masked paths, the read-only root.
    fn finish_rootfs(&mut self) -> Result<()>;
    /// rootfsPropagation on the new / (only in a mount namespace of the container's own).
    fn root_propagation(&mut self) -> Result<()>;
    /// A session keyring of the container's (unless --no-new-keyring).
    fn join_keyring(&mut self);
    /// The process's identity and its program.
    fn prepare_process(&mut self) -> Result<()>;
    /// The workload is ready; Ready goes to the host.
    fn ready(&mut self) -> Result<()>;
    /// Until `start` writes the exec fifo.
    fn wait_start(&mut self) -> Result<()>;
    fn start_container_hooks(&mut self) -> Result<()>;
    /// Hands over to the workload; returns how the init ends.
    fn run(&mut self) -> Result<i32>;
}

/// The create steps in runtime.md's order, each taken when the config asks for it.
pub(super) fn create_in_order(
    steps: &mut dyn CreateSteps,
    cfg: &CreateConfig,
    process: &Process,
) -> Result<i32> {
    let spec = &cfg.common.spec;
    let has_mntns = has_ns(spec, LinuxNamespaceType::Mount);
    steps.seal()?;
    steps.close_inherited()?;
    steps.load_workload()?;
    if has_mntns {
        steps.mounts()?;
    }
    steps.host_hooks()?;
    // Before the root switch, in the container's root, as runc runs them.
    steps.create_container_hooks()?;
    steps.enter_root(has_mntns)?;
    steps.set_names()?;
    if process.terminal().unwrap_or(false) {
        steps.console()?;
    }
    steps.finish_rootfs()?;
    // Last: an unbindable / would refuse the binds of readonlyPaths that finish makes.
    if has_mntns {
        steps.root_propagation()?;
    }
    if !cfg.no_new_keyring {
        steps.join_keyring();
    }
    steps.prepare_process()?;
    steps.ready()?;
    steps.wait_start()?;
    steps.start_container_hooks()?;
    steps.run()
}

/// The container's mounts, in its own mount namespace, before its root is entered.
pub(super) fn make_mounts(
    os: &dyn Syscall,
    cfg: &CreateConfig,
    sources: &HashMap<usize, OwnedFd>,
) -> Result<()> {
    let (spec, root) = (&cfg.common.spec, &cfg.common.rootfs);
    rootfs::prepare_root(os, spec, root)?;
    rootfs::mount_all(os, spec, root, &cfg.bundle, &cfg.cgroup_mounts, sources)?;
    rootfs::setup_dev(os, spec, root, has_ns(spec, LinuxNamespaceType::User))?;
    rootfs::finish_dev(os, spec, root)
}

/// pivot_root (or chroot with --no-pivot) into the rootfs.
pub(super) fn enter_root(os: &dyn Syscall, cfg: &CreateConfig, has_mntns: bool) -> Result<()> {
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
    sys::close_fds_from(3 + common.preserve_fds, &[ch.channel().raw()])?;
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
pub(super) fn above(fd: OwnedFd, floor: i32) -> Result<OwnedFd> {
    if fd.as_raw_fd() >= floor {
        return Ok(fd);
    }
    sys::fdpass::dup_above(fd.as_fd(), floor, "fd")
}

/// Asks the host to run the prestart and createRuntime hooks; returns the state JSON the
/// container's own hooks get.
pub(super) fn hooks_round_trip(spec: &Spec, ch: &InitEnd) -> Result<String> {
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

pub(super) fn console(process: &Process, ch: &InitEnd) -> Result<()> {
    let size = process
        .console_size()
        .as_ref()
        .map(|b| (b.height() as u16, b.width() as u16));
    let master = tty::open_pty(size, process.user().uid())?;
    ch.send_with_fds(&FromInit::Console, &[master.as_raw_fd()])
}

/// The process's identity (`identity.rs`), then its program, resolved by `resolve` as the
/// user, so that a missing executable fails `create` and not `start`.
pub(super) fn prepare_process(
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
