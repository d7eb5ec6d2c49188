//! `create`: the host side. Spawns `rune init`, answers its requests (user namespace maps,
//! hooks, console), and records the container once the init is ready and waiting for `start`.

use super::init_failure::{died, oom_hint};
use super::{oci_state_value, Container, Status};
use crate::cgroups::{self, Manager};
use crate::enclave::EnclaveConfig;
use crate::err;
use crate::error::{Context, Error, Result};
use crate::hooks::{self, Point};
use crate::namespaces;
use crate::process::channel::{self, Channel};
use crate::process::message::{InitConfig, Mode, Msg, Stage};
use crate::process::{spawn, wait_exit};
use crate::spec::{self, Bundle};
use crate::store::{self, LockedDir, State, Store, EXEC_FIFO};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// How to create a container: runc's `create` flags.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub bundle: PathBuf,
    /// The config, when the caller has it in memory; else `<bundle>/config.json` is read.
    pub config: Option<oci_spec::runtime::Spec>,
    pub pid_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub preserve_fds: i32,
    /// The rune binary to run as `rune init` (default: this executable).
    pub init_binary: Option<PathBuf>,
    /// Keep the pty master for the caller (foreground `run -t`) instead of needing a socket.
    pub keep_console: bool,
    /// `--systemd-cgroup`: cgroupsPath is `slice:prefix:name` (placed by its cgroupfs path).
    pub systemd_cgroup: bool,
    /// Annotations added to (or replacing those of) config.json, e.g. the `enclave.*` ones.
    pub annotations: Vec<(String, String)>,
    /// Pass this process's socket-activation fds (LISTEN_FDS) on, as the CLI does; off for
    /// library hosts, whose own sockets must not leak into containers.
    pub listen_fds: bool,
}

/// A created container, the pty master when the caller asked to keep it, and what the caller
/// should warn about (a cgroup that held processes already).
pub struct Created {
    pub container: Container,
    pub console: Option<OwnedFd>,
    pub warnings: Vec<Error>,
}

/// What to undo when creation fails part-way.
struct Undo {
    pids: Vec<i32>,
    /// Set once the cgroup exists (loaded again only on this error path).
    cgroup: Option<cgroups::CgroupPath>,
    /// Set once the hooks start: a failure from there on goes on with the container's
    /// destruction and its poststop hooks (runtime.md, steps 12 and 13), with this state.
    poststop: Option<(Vec<oci_spec::runtime::Hook>, String)>,
}

impl Undo {
    fn run(self, dir: LockedDir) {
        for pid in &self.pids {
            // SAFETY: signalling and reaping our own children.
            unsafe { libc::kill(*pid, libc::SIGKILL) };
        }
        for pid in &self.pids {
            let _ = wait_exit(*pid);
        }
        if let Some(path) = self.cgroup {
            let _ = Manager::load(&path).remove();
        }
        if let Some((hooks, state)) = self.poststop {
            // Failures are warnings, and the create error is what the caller gets.
            let _ = hooks::run_all(Point::Poststop, &hooks, &state);
        }
        let _ = dir.remove();
    }
}

impl Container {
    pub fn create(store: &Store, id: &str, opts: &CreateOptions) -> Result<Created> {
        store::validate_id(id)?;
        let mut bundle = match &opts.config {
            Some(c) => spec::bundle_from_spec(&opts.bundle, c.clone())?,
            None => spec::load_bundle(&opts.bundle)?,
        };
        if !opts.annotations.is_empty() {
            let mut ann = bundle.spec.annotations().clone().unwrap_or_default();
            ann.extend(opts.annotations.iter().cloned());
            bundle.spec.set_annotations(Some(ann));
        }
        let enclave = EnclaveConfig::from_spec(&mut bundle.spec)?;
        if let Some(e) = &enclave {
            crate::enclave::add_devices(&mut bundle.spec, e)?;
        }
        check_console(&bundle, opts)?;
        let dir = store.create(id)?;
        let mut undo = Undo {
            pids: Vec::new(),
            cgroup: None,
            poststop: None,
        };
        match create_in(id, opts, &bundle, enclave, &dir, &mut undo) {
            Ok((state, console, warnings)) => {
                drop(dir);
                Ok(Created {
                    container: Container {
                        store: store.clone(),
                        state,
                    },
                    console,
                    warnings,
                })
            }
            Err(e) => {
                undo.run(dir);
                Err(e)
            }
        }
    }
}

fn check_console(b: &Bundle, opts: &CreateOptions) -> Result<()> {
    let terminal = b
        .spec
        .process()
        .as_ref()
        .and_then(|p| p.terminal())
        .unwrap_or(false);
    check_console_args(terminal, opts.console_socket.as_deref(), opts.keep_console)
}

/// runc's rules for `terminal` and `--console-socket`, shared by create and exec.
pub(crate) fn check_console_args(
    terminal: bool,
    socket: Option<&Path>,
    keep_console: bool,
) -> Result<()> {
    if terminal && socket.is_none() && !keep_console {
        return Err(err!(
            InvalidArgument,
            "cannot allocate tty if rune will detach without setting console socket"
        ));
    }
    if !terminal && socket.is_some() {
        return Err(err!(
            InvalidArgument,
            "cannot use console socket if rune will not detach or allocate tty"
        ));
    }
    if let Some(s) = socket {
        crate::tty::check_socket(s)?;
    }
    Ok(())
}

/// LISTEN_FDS from socket activation, when meant for this process: (count, env to add).
pub(crate) fn listen_fds() -> (i32, Vec<String>) {
    let n: i32 = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let pid_ok = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        == Some(std::process::id());
    if n > 0 && pid_ok {
        (n, vec![format!("LISTEN_FDS={}", n), "LISTEN_PID=1".into()])
    } else {
        (0, Vec::new())
    }
}

pub(crate) fn init_binary(given: &Option<PathBuf>) -> Result<PathBuf> {
    match given {
        Some(p) => Ok(p.clone()),
        None => std::env::current_exe().context("find the rune binary"),
    }
}

/// The init end of a channel, numbered above the fds passed to the container.
pub(crate) fn init_end(fd: Channel, floor: i32) -> Result<OwnedFd> {
    let raw = nix::fcntl::fcntl(&fd.fd, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(floor.max(3)))
        .context("dup init channel")?;
    // SAFETY: a new descriptor owned by us.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

fn create_in(
    id: &str,
    opts: &CreateOptions,
    bundle: &Bundle,
    enclave: Option<EnclaveConfig>,
    dir: &LockedDir,
    undo: &mut Undo,
) -> Result<(State, Option<OwnedFd>, Vec<Error>)> {
    let spec = &bundle.spec;
    let fifo_path = dir.path().join(EXEC_FIFO);
    nix::unistd::mkfifo(&fifo_path, nix::sys::stat::Mode::from_bits_truncate(0o600))
        .with_context(|| format!("mkfifo {}", fifo_path.display()))?;
    crate::files::chmod(&fifo_path, 0o600)?;
    // The enclave host's socket, bound here (mode 0600, in the 0700 state directory) and
    // handed to the init with the fifo.
    let listener = match &enclave {
        Some(_) => Some(crate::enclave::host::listen(dir.path())?),
        None => None,
    };
    let mut init_fds = vec![];
    let fifo = nix::fcntl::open(
        &fifo_path,
        nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .with_context(|| format!("open {}", fifo_path.display()))?;

    let cg_path = if opts.systemd_cgroup {
        let given = spec
            .linux()
            .as_ref()
            .and_then(|l| l.cgroups_path().as_ref())
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        cgroups::CgroupPath {
            path: cgroups::systemd_path(&given, id)?,
            parents: Default::default(),
        }
    } else {
        cgroups::path_for(spec, id)
    };
    if cg_path.path.is_empty() {
        return Err(err!(
            InvalidSpec,
            "config.json: linux.cgroupsPath names the root cgroup (or rune's own); give a cgroup \
             of the container's own"
        ));
    }
    // Recorded before anything is made, so that `delete --force` after a `create` killed at
    // any moment finds the cgroup (and the processes in it).
    let mut state = State {
        id: id.to_string(),
        init_pid: 0,
        init_start_time: 0,
        bundle: bundle.path.clone(),
        rootfs: bundle.rootfs.clone(),
        created: store::rfc3339_now(),
        owner: owner_name(),
        annotations: spec.annotations().clone().unwrap_or_default(),
        cgroup_path: Some(cg_path.clone()),
        enclave,
        config: spec.clone(),
        incomplete: true,
    };
    dir.write_state(&state)?;
    // A frozen cgroup would stop the init before its first message: refused before anything
    // is made or joined.
    let warnings = Manager::load(&cg_path).check_existing()?;
    // Manager::create removes what it made when it fails.
    let cg = match Manager::create(&cg_path) {
        Ok(cg) => {
            undo.cgroup = Some(cg_path.clone());
            Some(cg)
        }
        // Rootless without a delegated cgroup: run without one, unless limits were asked for.
        Err(_) if rootless() && !cgroups::has_limits(spec) => {
            state.cgroup_path = None;
            None
        }
        Err(e) => return Err(e),
    };

    let (listen_n, extra_env) = if opts.listen_fds {
        listen_fds()
    } else {
        (0, Vec::new())
    };
    let preserve = opts.preserve_fds + listen_n;
    let plan = namespaces::plan(spec);
    let (host, init) = channel::pair()?;
    let init = init_end(init, 3 + preserve)?;
    let exe = init_binary(&opts.init_binary)?;
    let sp = spawn::Plan::new(&exe, init.as_raw_fd(), plan.clone_flags)?;
    let mut child = sp.spawn(init.as_raw_fd())?;
    drop(init);
    undo.pids.push(child.pid);
    if plan.clone_flags & libc::CLONE_NEWUSER != 0 {
        namespaces::write_id_maps(child.pid, spec)?;
    }
    child.release()?;
    if let Some(cg) = &cg {
        cg.add(child.pid)?;
        cg.apply_spec(spec)?;
    }

    let mut cfg = InitConfig {
        mode: Mode::Create,
        stage: plan.stage,
        id: id.to_string(),
        spec: spec.clone(),
        process: None,
        rootfs: bundle.rootfs.clone(),
        bundle: bundle.path.clone(),
        no_pivot: opts.no_pivot,
        no_new_keyring: opts.no_new_keyring,
        preserve_fds: preserve,
        extra_env,
        join: plan.join.clone(),
        unshare_flags: plan.unshare_flags,
        has_fifo: true,
        cgroup_paths: cgroups::paths_of(child.pid),
        enclave: state.enclave.clone(),
        // Only an enclave host serves a socket.
        peer_uids: if state.enclave.is_some() {
            namespaces::peer_uids(spec)
        } else {
            Vec::new()
        },
        bind_fds: Vec::new(),
    };
    init_fds.push(fifo.as_raw_fd());
    if let Some(l) = &listener {
        init_fds.push(l.as_raw_fd());
    }
    let new_userns = (plan.clone_flags | plan.unshare_flags) & libc::CLONE_NEWUSER != 0;
    let sources = if new_userns {
        open_bind_sources(spec, &bundle.path)
    } else {
        Vec::new()
    };
    cfg.bind_fds = sources.iter().map(|(i, _)| *i).collect();
    init_fds.extend(sources.iter().map(|(_, fd)| fd.as_raw_fd()));
    host.send_with_fds(&Msg::Config(Box::new(cfg.clone())), &init_fds)?;

    state.init_pid = child.pid;
    let mut console = None;
    let mut calling: Option<String> = None;
    loop {
        let (msg, mut fds) = match host.recv()? {
            Some(m) => m,
            None => {
                let e = died(&child, state.init_pid, calling.as_deref());
                return Err(oom_hint(e, cg.as_ref(), spec));
            }
        };
        match msg {
            Msg::MapRequest { pid } => {
                namespaces::write_id_maps(pid, spec)?;
                host.send(&Msg::MapsDone)?;
            }
            Msg::Pid { pid } => {
                undo.pids.push(pid);
                let _ = wait_exit(child.pid);
                undo.pids.retain(|p| *p != child.pid);
                state.init_pid = pid;
                cfg.stage = Stage::Setup;
                host.send_with_fds(&Msg::Config(Box::new(cfg.clone())), &init_fds)?;
            }
            Msg::Hooks => {
                // The environment is made (lifecycle step 2 is over): `created`, as the
                // runtime-spec's state definition has it and runtime-tools checks.
                let json = oci_state_value(&state, Status::Created, state.init_pid).to_string();
                let stopped = oci_state_value(&state, Status::Stopped, 0).to_string();
                undo.poststop = Some((Point::Poststop.of(spec), stopped));
                hooks::run(Point::Prestart, &Point::Prestart.of(spec), &json)?;
                hooks::run(Point::CreateRuntime, &Point::CreateRuntime.of(spec), &json)?;
                host.send(&Msg::HooksDone { state: json })?;
            }
            Msg::Console => {
                let master = fds
                    .pop()
                    .ok_or_else(|| err!(Internal, "console message without a pty"))?;
                match &opts.console_socket {
                    Some(sock) => crate::tty::send_to_socket(sock, master.as_raw_fd())?,
                    None => console = Some(master),
                }
            }
            Msg::Calling { call } => calling = Some(call),
            Msg::Seccomp => {
                let fd = fds
                    .pop()
                    .ok_or_else(|| err!(Internal, "seccomp message without an fd"))?;
                let st = oci_state_value(&state, Status::Creating, state.init_pid);
                crate::hooks::send_seccomp_fd(spec, st, fd)?;
            }
            Msg::Ready { pal_version } => {
                crate::netdev::move_in(spec, state.init_pid)?;
                if let Some(e) = state.enclave.as_mut() {
                    e.pal_version = pal_version;
                }
                break;
            }
            Msg::Error(e) => return Err(e.into_error()),
            other => {
                return Err(err!(
                    Internal,
                    "unexpected message from rune init: {:?}",
                    other
                ))
            }
        }
    }
    drop(fifo);
    drop(listener);
    state.init_start_time = crate::procfs::stat(state.init_pid)
        .map(|s| s.start_time)
        .ok_or_else(|| err!(Internal, "container init {} vanished", state.init_pid))?;
    state.incomplete = false;
    dir.write_state(&state)?;
    if let Some(p) = &opts.pid_file {
        write_pid_file(p, state.init_pid)?;
    }
    Ok((state, console, warnings))
}

/// Bind sources opened here, as the caller, before the init enters the new user namespace
/// (runc's mount fds): the mapped root may not be allowed to reach them by path. Each is a
/// detached copy of the mount (open_tree), which the init attaches with move_mount; one that
/// cannot be opened so is left to the init, which then names it in its error.
fn open_bind_sources(spec: &oci_spec::runtime::Spec, bundle: &Path) -> Vec<(usize, OwnedFd)> {
    crate::rootfs::bind_sources(spec, bundle)
        .into_iter()
        .filter_map(|(i, p, recursive)| Some((i, crate::sys::open_tree_clone(&p, recursive).ok()?)))
        .collect()
}

/// Writes the pid file atomically, as runc does.
pub(crate) fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().context("cwd")?.join(path)
    };
    // 0644 as runc's, but explicit: not the caller's umask.
    crate::files::write_atomic(&path, pid.to_string().as_bytes(), 0o644)
        .map_err(|e| err!(Os, "write pid file: {}", e))
}

pub(crate) fn rootless() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() != 0 }
}

fn owner_name() -> String {
    // SAFETY: geteuid cannot fail.
    let uid = unsafe { libc::geteuid() };
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 2 && f[2] == uid.to_string()).then(|| f[0].to_string())
        })
        .unwrap_or_else(|| uid.to_string())
}
