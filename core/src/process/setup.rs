//! The init's steps inside the new namespaces, each a named function, in the order of
//! runtime.md: mounts, hooks, pivot_root, the process's identity, then wait for `start`.

use super::channel::Channel;
use super::message::{InitConfig, Msg};
use crate::enclave::pal::Pal;
use crate::err;
use crate::error::{Context, Error, Result};
use crate::hooks::{self, Point};
use crate::security::{capabilities, process_attrs, rlimits, user};
use crate::{rootfs, sys, tty};
use oci_spec::runtime::{LinuxNamespaceType, Process, Spec};
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

/// The program to execute, ready for execve.
struct Program {
    path: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
}

/// Create mode: set the container up, report Ready, wait for `start`, run the entrypoint.
pub fn create(cfg: &InitConfig, fds: Vec<OwnedFd>, ch: &Channel) -> Result<()> {
    let spec = &cfg.spec;
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| err!(InvalidSpec, "process is missing"))?;
    sys::prctl(libc::PR_SET_DUMPABLE, 0, "make rune init non-dumpable")?;
    let floor = 3 + cfg.preserve_fds;
    let mut fds = fds.into_iter();
    let fifo = match (cfg.has_fifo, fds.next()) {
        (true, Some(fd)) => Some(above(fd, floor)?),
        _ => None,
    };
    // The enclave host's socket, bound by `rune create` in the state directory.
    let listener = match &cfg.enclave {
        Some(_) => match fds.next() {
            Some(fd) => Some(std::os::unix::net::UnixListener::from(above(fd, floor)?)),
            None => return Err(err!(Internal, "enclave config without its socket")),
        },
        None => None,
    };
    let mut sources = std::collections::HashMap::new();
    for (i, fd) in cfg.bind_fds.iter().zip(fds.by_ref()) {
        sources.insert(*i, above(fd, floor)?);
    }
    // Nothing of the caller's beyond stdio, the preserved fds and what rune passed on stays
    // open: the enclave host never execs, so close-on-exec alone would not do (CVE-2024-21626).
    let mut keep = vec![ch.raw()];
    keep.extend(fifo.as_ref().map(|f| f.as_raw_fd()));
    keep.extend(listener.as_ref().map(|l| l.as_raw_fd()));
    keep.extend(sources.values().map(|fd| fd.as_raw_fd()));
    sys::close_fds_from(floor, &keep)?;
    // An enclave runtime is loaded from its host path before anything else changes the view
    // of the file system.
    let enclave = match (&cfg.enclave, listener) {
        (Some(e), Some(l)) => Some((Pal::load_with(&e.runtime_path, e.exit_status)?, l, e)),
        _ => None,
    };
    let has_mntns = has_ns(spec, LinuxNamespaceType::Mount);
    let in_userns = has_ns(spec, LinuxNamespaceType::User);
    if has_mntns {
        rootfs::prepare_root(spec, &cfg.rootfs)?;
        rootfs::mount_all(spec, &cfg.rootfs, &cfg.bundle, &cfg.cgroup_paths, &sources)?;
        rootfs::setup_dev(spec, &cfg.rootfs, in_userns)?;
    }
    drop(sources);
    let state = hooks_round_trip(spec, ch)?;
    // Before the root switch, in the container's root, as runc runs them.
    let hook_env = process.env().clone().unwrap_or_default();
    hooks::run_in(
        Point::CreateContainer,
        &Point::CreateContainer.of(spec),
        &state,
        Some(&cfg.rootfs),
        Some(&hook_env),
    )?;
    if has_mntns {
        rootfs::enter(&cfg.rootfs, cfg.no_pivot)?;
    } else {
        // As runc: the rootfs is bound onto itself even without a mount namespace of its own
        // (in the caller's, where it stays: the tools that unmount the rootfs afterwards
        // expect that mount), then entered with chroot.
        sys::mount(
            Some(&cfg.rootfs),
            &cfg.rootfs,
            None,
            libc::MS_BIND | libc::MS_REC,
            None,
            &|| format!("bind the rootfs {} onto itself", cfg.rootfs.display()),
        )?;
        nix::unistd::chroot(&cfg.rootfs).context("chroot into the rootfs")?;
        nix::unistd::chdir("/").context("chdir /")?;
    }
    set_names(spec)?;
    if process.terminal().unwrap_or(false) {
        console(process, ch)?;
    }
    rootfs::finish(spec)?;
    // Last: an unbindable / would refuse the binds of readonlyPaths that finish makes.
    if has_mntns {
        rootfs::set_root_propagation(spec)?;
    }
    if !cfg.no_new_keyring {
        join_session_keyring(&cfg.id);
    }
    let program = prepare_process(process, cfg, enclave.is_some(), ch)?;
    if let Some((pal, _, e)) = &enclave {
        ch.send(&Msg::Calling {
            call: "pal_init".into(),
        })?;
        pal.init(&e.args, &e.log_level)?;
    }
    close_extra_fds(floor);
    sys::prctl(libc::PR_SET_PDEATHSIG, 0, "clear the parent-death signal")?;
    let pal_version = enclave.as_ref().map_or(0, |(p, _, _)| p.version());
    ch.send(&Msg::Ready { pal_version })?;
    // Kept open (close-on-exec) until the program runs: `start` waits for the last reader to
    // go before it runs the poststart hooks.
    if let Some(fifo) = &fifo {
        wait_for_start(fifo.as_raw_fd())?;
    }
    hooks::run_in(
        Point::StartContainer,
        &Point::StartContainer.of(spec),
        &state,
        None,
        Some(&hook_env),
    )?;
    if let Some((pal, listener, _)) = enclave {
        // The enclave's host stays: let go of the fifo as the entrypoint is handed over.
        drop(fifo);
        let path = program.path.to_string_lossy().into_owned();
        let argv: Vec<String> = program
            .argv
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let env: Vec<String> = program
            .envp
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        crate::enclave::host::run(pal, listener, cfg.peer_uids.clone(), &path, &argv, &env);
    }
    execute(&program)
}

/// Exec mode (stage B, namespaces already joined): run one more process in the container.
pub fn exec(cfg: &InitConfig, ch: &Channel) -> Result<()> {
    let process = cfg
        .process
        .as_ref()
        .ok_or_else(|| err!(InvalidSpec, "exec: no process given"))?;
    sys::prctl(libc::PR_SET_DUMPABLE, 0, "make rune init non-dumpable")?;
    // No descriptor of the caller's may be open when the cwd is entered (CVE-2024-21626).
    sys::close_fds_from(3 + cfg.preserve_fds, &[ch.raw()])?;
    if !has_ns(&cfg.spec, LinuxNamespaceType::Mount) {
        // The container has no mount namespace to join: its root is a chroot, entered again.
        nix::unistd::chroot(&cfg.rootfs).context("chroot into the rootfs")?;
        nix::unistd::chdir("/").context("chdir /")?;
    }
    if process.terminal().unwrap_or(false) {
        console(process, ch)?;
    }
    let program = prepare_process(process, cfg, false, ch)?;
    close_extra_fds(3 + cfg.preserve_fds);
    // The channel is close-on-exec: the host sees EOF once execve succeeded.
    execute(&program)
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
    let new =
        nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(floor)).context("dup fd")?;
    // SAFETY: F_DUPFD_CLOEXEC returned a new descriptor we own.
    Ok(unsafe { std::os::fd::FromRawFd::from_raw_fd(new) })
}

/// Asks the host to run the prestart and createRuntime hooks; returns the state JSON the
/// container's own hooks get.
fn hooks_round_trip(spec: &Spec, ch: &Channel) -> Result<String> {
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
    ch.send(&Msg::Hooks)?;
    match ch.recv()? {
        Some((Msg::HooksDone { state }, _)) => Ok(state),
        Some((Msg::Error(e), _)) => Err(e.into_error()),
        // The host gave up (a hook failed): it reports its own error; leave quietly.
        // SAFETY: _exit ends this process at once; the host kills and reaps it anyway.
        None => unsafe { libc::_exit(1) },
        other => Err(err!(
            Internal,
            "expected HooksDone, got {:?}",
            other.map(|m| m.0)
        )),
    }
}

fn set_names(spec: &Spec) -> Result<()> {
    if let Some(h) = spec.hostname().as_deref().filter(|h| !h.is_empty()) {
        nix::unistd::sethostname(h).with_context(|| format!("set hostname {:?}", h))?;
    }
    if let Some(d) = spec.domainname().as_deref().filter(|h| !h.is_empty()) {
        // SAFETY: a valid buffer and length.
        if unsafe { libc::setdomainname(d.as_ptr() as *const libc::c_char, d.len()) } != 0 {
            return Err(Error::io(
                format!("set domainname {:?}", d),
                std::io::Error::last_os_error(),
            ));
        }
    }
    Ok(())
}

fn console(process: &Process, ch: &Channel) -> Result<()> {
    let size = process
        .console_size()
        .as_ref()
        .map(|b| (b.height() as u16, b.width() as u16));
    let owner = (process.user().uid(), process.user().gid());
    let master = tty::open_pty(size, owner)?;
    ch.send_with_fds(&Msg::Console, &[master.as_raw_fd()])
}

fn join_session_keyring(id: &str) {
    let name = CString::new(format!("_ses.{}", id)).unwrap_or_default();
    // SAFETY: keyctl(KEYCTL_JOIN_SESSION_KEYRING, name); failures (ENOSYS, EPERM) are ignored
    // as runc does, the container then shares the caller's keyring.
    unsafe { libc::syscall(libc::SYS_keyctl, 1, name.as_ptr()) };
}

/// rlimits, OOM score, capabilities, user, no_new_privs, umask, cwd; then resolves the
/// executable, so a missing one fails `create` and not `start`.
fn prepare_process(
    process: &Process,
    cfg: &InitConfig,
    in_enclave: bool,
    ch: &Channel,
) -> Result<Program> {
    if let Some(rl) = process.rlimits() {
        rlimits::apply(rl)?;
    }
    if let Some(adj) = process.oom_score_adj() {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string())
            .with_context(|| format!("set oom_score_adj {}", adj))?;
    }
    let empty = Default::default();
    let caps = process.capabilities().as_ref().unwrap_or(&empty);
    let nnp = process.no_new_privileges().unwrap_or(false);
    // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it before the
    // capabilities go; with it, as late as this function allows.
    if !nnp {
        load_seccomp(&cfg.spec, ch)?;
    }
    ensure_cwd(process.cwd());
    // As runc: the cwd is entered while still root (a directory only root may enter works),
    // and once more as the user only where root could not (a root-squashed NFS cwd).
    let entered = sys::enter_cwd(process.cwd());
    process_attrs::apply_privileged(&cfg.spec, process)?;
    capabilities::apply_bounding(caps)?;
    sys::prctl(libc::PR_SET_KEEPCAPS, 1, "keep capabilities")?;
    user::switch(process.user())?;
    sys::prctl(libc::PR_SET_KEEPCAPS, 0, "clear keep-capabilities")?;
    capabilities::apply_sets(caps)?;
    sys::prctl(libc::PR_SET_DUMPABLE, 0, "make rune init non-dumpable")?;
    if nnp {
        sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, "set no_new_privs")?;
    }
    let umask = process.user().umask().unwrap_or(0o022);
    // SAFETY: umask cannot fail.
    unsafe { libc::umask(umask as libc::mode_t) };
    if entered.is_err() {
        sys::enter_cwd(process.cwd())?;
    }
    let mut env: Vec<String> = process.env().clone().unwrap_or_default();
    env.extend(cfg.extra_env.iter().cloned());
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!("HOME={}", user::home_of(process.user().uid())));
    }
    let args = process.args().clone().unwrap_or_default();
    // For an enclave the path is the enclave runtime's to resolve (a library OS has its own
    // file system): pass it on as given when the container has no such file.
    let path = match lookup(&args[0], &env) {
        Err(_) if in_enclave => PathBuf::from(&args[0]),
        r => r?,
    };
    let c = |s: &str| CString::new(s).map_err(|_| err!(InvalidSpec, "{:?} contains NUL", s));
    process_attrs::apply_last(process)?;
    if nnp {
        load_seccomp(&cfg.spec, ch)?;
    }
    Ok(Program {
        path: sys::cstr(&path)?,
        argv: args.iter().map(|a| c(a)).collect::<Result<_>>()?,
        envp: env.iter().map(|e| c(e)).collect::<Result<_>>()?,
    })
}

/// Loads the config's filter; a notify fd goes to the host (for the listener) at once, before
/// the init makes any other system call the filter could hold back.
#[cfg(feature = "seccomp")]
fn load_seccomp(spec: &Spec, ch: &Channel) -> Result<()> {
    let fd = match spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) {
        Some(s) => crate::security::seccomp::load(s)?,
        None => None,
    };
    match fd {
        Some(fd) => ch.send_with_fds(&Msg::Seccomp, &[fd.as_raw_fd()]),
        None => Ok(()),
    }
}

#[cfg(not(feature = "seccomp"))]
fn load_seccomp(spec: &Spec, _ch: &Channel) -> Result<()> {
    match spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) {
        Some(_) => Err(err!(
            InvalidSpec,
            "seccomp: this rune was built without seccomp support"
        )),
        None => Ok(()),
    }
}

/// runc creates a missing cwd (as root, before the user switch); a failure shows at chdir.
fn ensure_cwd(cwd: &Path) {
    if cwd.is_absolute() && !cwd.exists() {
        let _ = std::fs::create_dir_all(cwd);
    }
}

/// Finds the executable as execvp would, with the container's PATH.
pub(crate) fn lookup(name: &str, env: &[String]) -> Result<PathBuf> {
    let executable = |p: &Path| -> std::result::Result<(), Error> {
        let c = sys::cstr(p)?;
        let meta = std::fs::metadata(p)
            .map_err(|e| Error::io(format!("exec: {:?}: stat {}", name, p.display()), e))?;
        // SAFETY: valid path.
        if meta.is_dir() || unsafe { libc::access(c.as_ptr(), libc::X_OK) } != 0 {
            return Err(Error::os(format!("exec: {:?}", name), libc::EACCES));
        }
        Ok(())
    };
    if name.contains('/') {
        executable(Path::new(name))?;
        return Ok(PathBuf::from(name));
    }
    let path = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("");
    for dir in path.split(':').filter(|d| !d.is_empty()) {
        let p = Path::new(dir).join(name);
        if executable(&p).is_ok() {
            return Ok(p);
        }
    }
    Err(err!(
        NotFound,
        "exec: {:?}: executable file not found in $PATH",
        name
    ))
}

/// Marks every fd from `floor` up close-on-exec: only stdio and the preserved fds reach the
/// container process, never a descriptor of a host file or directory (CVE-2024-21626).
fn close_extra_fds(floor: i32) {
    // SAFETY: close_range(floor, ~0, CLOSE_RANGE_CLOEXEC) only sets flags.
    unsafe { libc::syscall(libc::SYS_close_range, floor as u32, u32::MAX, 4u32) };
}

/// Blocks until `start` writes to the exec fifo.
fn wait_for_start(fifo: RawFd) -> Result<()> {
    let mut b = [0u8; 1];
    loop {
        // SAFETY: read into a one-byte buffer.
        let n = unsafe { libc::read(fifo, b.as_mut_ptr() as *mut libc::c_void, 1) };
        if n == 1 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if n < 0 && e.raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return Err(Error::io("wait for start on exec.fifo", e));
    }
}

fn execute(p: &Program) -> Result<()> {
    let argv = crate::sys::null_terminated(&p.argv);
    let envp = crate::sys::null_terminated(&p.envp);
    // SAFETY: restore SIGPIPE for the payload; execve with NULL-terminated arrays.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::execve(p.path.as_ptr(), argv.as_ptr(), envp.as_ptr());
    }
    Err(Error::io(
        format!("exec {}", p.path.to_string_lossy()),
        std::io::Error::last_os_error(),
    ))
}
