//! `create`: the host side. Spawns `rune init`, answers its requests (user namespace maps,
//! hooks, console), and records the container once the init is ready and waiting for `start`.

use super::driver::{check_console_args, init_binary, listen_fds, Driver, Requests};
use super::init_failure::oom_hint;
use super::{oci_state_value, Container, Status};
use crate::cgroups::{self, CgroupManager};
use crate::err;
use crate::error::{Context, Error, Result};
use crate::hooks::{self, Point};
use crate::namespaces;
use crate::process::message::{Common, CreateConfig, InitConfig};
use crate::spec::{self, Bundle};
use crate::store::{self, LockedDir, State, Store, EXEC_FIFO};
use oci_spec::runtime::Spec;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
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
    /// `--systemd-cgroup`: cgroupsPath is `slice:prefix:name`, and systemd makes the cgroup
    /// (a transient unit).
    pub systemd_cgroup: bool,
    /// Annotations added to (or replacing those of) config.json, e.g. the `enclave.*` ones.
    pub annotations: Vec<(String, String)>,
    /// Pass this process's socket-activation fds (LISTEN_FDS) on, as the CLI does; off for
    /// library hosts, whose own sockets must not leak into containers.
    pub listen_fds: bool,
    /// `run`: the init is released as soon as the container is made (the start byte goes into
    /// its exec fifo before the record is written), so the program does not wait for the
    /// record nor for a `start`; the caller then calls [`Container::start_released`].
    pub start_at_once: bool,
}

/// A created container, the pty master when the caller asked to keep it, and what the caller
/// should warn about (a cgroup that held processes already).
pub struct Created {
    pub container: Container,
    pub console: Option<OwnedFd>,
    pub warnings: Vec<Error>,
}

/// What to undo when creation fails part-way (the processes are the driver's to kill).
struct Undo {
    /// Set once the cgroup exists (loaded again only on this error path).
    cgroup: Option<cgroups::CgroupPath>,
    /// Set once the hooks start: a failure from there on goes on with the container's
    /// destruction and its poststop hooks (runtime.md, steps 12 and 13), with this state.
    poststop: Option<(Vec<oci_spec::runtime::Hook>, String)>,
}

impl Undo {
    fn run(self, dir: LockedDir) {
        if let Some(path) = self.cgroup {
            let _ = cgroups::manager(&path).remove();
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
        // The kind of workload, chosen once (an enclave's takes its settings out of the
        // config and adds the devices it needs).
        let handler = crate::workload::claim(&mut bundle.spec)?;
        check_console(&bundle, opts)?;
        let dir = store.create(id)?;
        let mut undo = Undo {
            cgroup: None,
            poststop: None,
        };
        match create_in(id, opts, &bundle, handler, &dir, &mut undo) {
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

fn create_in(
    id: &str,
    opts: &CreateOptions,
    bundle: &Bundle,
    mut handler: Box<dyn crate::workload::Handler>,
    dir: &LockedDir,
    undo: &mut Undo,
) -> Result<(State, Option<OwnedFd>, Vec<Error>)> {
    let spec = &bundle.spec;
    let fifo = make_exec_fifo(dir)?;
    // What the kind of workload hands the init after the fifo (an enclave keeper's socket,
    // bound in the state directory).
    let (workload, passed) = handler.bind(spec, dir.path())?;
    let cg_path = cgroup_path(spec, id, opts.systemd_cgroup)?;
    let (listen_n, extra_env) = if opts.listen_fds {
        listen_fds()
    } else {
        (0, Vec::new())
    };
    let preserve = opts.preserve_fds + listen_n;
    let plan = namespaces::plan(spec);
    let new_userns = (plan.clone_flags | plan.unshare_flags) & libc::CLONE_NEWUSER != 0;
    let sources = open_bind_sources(spec, &bundle.path, new_userns)?;
    // The init starts first: its own start (an execve of rune) goes on while the record and
    // the cgroup are made. It waits for its config, sent once it is in the cgroup; if create
    // fails before, the driver kills it.
    let mut init = spawn_init(spec, &plan, opts, preserve)?;
    // Recorded before the cgroup is made, so that `delete --force` after a `create` killed at
    // any moment finds the cgroup (and the processes in it).
    let mut state = initial_state(id, bundle, cg_path.clone(), handler.record());
    dir.write_state(&state)?;
    let (cg, mut warnings) = make_cgroup(spec, &cg_path, undo)?;
    if let Some(p) = spec.process() {
        warnings.extend(crate::security::capabilities::ungranted_warning(spec, p));
    }
    match &cg {
        Some(cg) => cg.enter(init.pid(), spec)?,
        None => state.cgroup_path = None,
    }
    let config = CreateConfig {
        common: Common {
            spec: spec.clone(),
            rootfs: bundle.rootfs.clone(),
            join: plan.join.clone(),
            unshare_flags: plan.unshare_flags,
            preserve_fds: preserve,
            extra_env,
        },
        id: id.to_string(),
        bundle: bundle.path.clone(),
        no_pivot: opts.no_pivot,
        no_new_keyring: opts.no_new_keyring,
        workload,
        cgroup_mounts: crate::rootfs::cgroupfs::hierarchies(&cgroups::paths_of(init.pid())),
        bind_fds: sources.iter().map(|(i, _)| *i).collect(),
    };
    let mut init_fds = vec![fifo.as_raw_fd()];
    init_fds.extend(passed.iter().map(|fd| fd.as_raw_fd()));
    init_fds.extend(sources.iter().map(|(_, fd)| fd.as_raw_fd()));
    state.init_pid = init.pid();
    let mut answers = CreateAnswers {
        spec,
        state: &state,
        cg: cg.as_deref(),
        poststop: &mut undo.poststop,
    };
    let done = init.run(
        plan.stage,
        InitConfig::Create(Box::new(config)),
        &init_fds,
        opts.console_socket.as_deref(),
        &mut answers,
    )?;
    state.init_pid = done.pid;
    handler.ready(done.pal_version);
    state.workload = handler.record();
    crate::netdev::move_in(spec, state.init_pid)?;
    if opts.start_at_once {
        // The container is made; only its record is left to write, which the program need
        // not wait for (no one can start it twice: `run` holds it).
        crate::sys::fd::write_no_sigpipe(fifo.as_fd(), b"0").context("write to exec.fifo")?;
    }
    drop(fifo);
    drop(passed);
    record_created(&mut state, dir, opts)?;
    init.detach();
    Ok((state, done.console, warnings))
}

/// Spawns the container's init in its new namespaces (writing a new user namespace's maps
/// before it goes on).
fn spawn_init(
    spec: &Spec,
    plan: &namespaces::Plan,
    opts: &CreateOptions,
    preserve: i32,
) -> Result<Driver> {
    let exe = init_binary(&opts.init_binary)?;
    let mut init = Driver::spawn(&exe, 3 + preserve, plan.clone_flags)?;
    if plan.clone_flags & libc::CLONE_NEWUSER != 0 {
        namespaces::write_id_maps(init.pid(), spec)?;
    }
    init.release()?;
    Ok(init)
}

/// The exec fifo `start` writes to, made 0600 whatever the umask, and opened (read-write, so
/// the open does not block) to be passed to the init.
fn make_exec_fifo(dir: &LockedDir) -> Result<OwnedFd> {
    let fifo_path = dir.path().join(EXEC_FIFO);
    crate::sys::fifo::make(&fifo_path, 0o600)?;
    crate::files::chmod(&fifo_path, 0o600)?;
    crate::sys::fifo::open_rdwr(&fifo_path)
}

/// The container's cgroup: cgroupsPath (or `slice:prefix:name` with --systemd-cgroup), never
/// the root cgroup or rune's own.
fn cgroup_path(spec: &Spec, id: &str, systemd: bool) -> Result<cgroups::CgroupPath> {
    let cg_path = if systemd {
        let given = spec
            .linux()
            .as_ref()
            .and_then(|l| l.cgroups_path().as_ref())
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        cgroups::systemd(&given, id)?
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
    Ok(cg_path)
}

/// The container's record while it is being made (`incomplete`, no init yet).
fn initial_state(
    id: &str,
    bundle: &Bundle,
    cg_path: cgroups::CgroupPath,
    workload: crate::workload::Record,
) -> State {
    State {
        id: id.to_string(),
        init_pid: 0,
        init_start_time: 0,
        bundle: bundle.path.clone(),
        rootfs: bundle.rootfs.clone(),
        created: store::rfc3339_now(),
        owner: owner_name(),
        annotations: bundle.spec.annotations().clone().unwrap_or_default(),
        cgroup_path: Some(cg_path),
        workload,
        config: bundle.spec.clone(),
        incomplete: true,
    }
}

/// A container's cgroup, by whichever driver.
type Cgroup = Box<dyn CgroupManager>;

/// Prepares the container's cgroup, by the driver cg_path names (None: rootless without a
/// delegated cgroup and no limits); returns what the caller should warn about. A frozen
/// cgroup, which would stop the init before its first message, is refused here, before
/// anything is made or joined; so is a systemd that cannot be reached.
fn make_cgroup(
    spec: &Spec,
    cg_path: &cgroups::CgroupPath,
    undo: &mut Undo,
) -> Result<(Option<Cgroup>, Vec<Error>)> {
    let cg = cgroups::manager(cg_path);
    // prepare removes what it made when it fails; from here on (a systemd unit is made
    // later, with the init) the undo removes the cgroup.
    match cg.prepare(spec)? {
        Some(warnings) => {
            undo.cgroup = Some(cg_path.clone());
            Ok((Some(cg), warnings))
        }
        None => Ok((None, Vec::new())),
    }
}

/// The init is ready: the record is complete (its start time, against pid reuse), and the pid
/// file is written.
fn record_created(state: &mut State, dir: &LockedDir, opts: &CreateOptions) -> Result<()> {
    state.init_start_time = crate::procfs::stat(state.init_pid)
        .map(|s| s.start_time)
        .ok_or_else(|| err!(Internal, "container init {} vanished", state.init_pid))?;
    state.incomplete = false;
    dir.write_state(state)?;
    if let Some(p) = &opts.pid_file {
        crate::files::write_pid_file(p, state.init_pid)?;
    }
    Ok(())
}

/// Create's answers to the init: the hooks, the seccomp listener, the OOM killer's part.
struct CreateAnswers<'a> {
    spec: &'a Spec,
    state: &'a State,
    cg: Option<&'a dyn CgroupManager>,
    poststop: &'a mut Option<(Vec<oci_spec::runtime::Hook>, String)>,
}

impl Requests for CreateAnswers<'_> {
    fn write_maps(&mut self, pid: i32) -> Result<()> {
        namespaces::write_id_maps(pid, self.spec)
    }

    fn run_hooks(&mut self, init_pid: i32) -> Result<String> {
        // The environment is made (lifecycle step 2 is over): `created`, as the runtime-spec's
        // state definition has it and runtime-tools checks.
        let json = oci_state_value(self.state, Status::Created, init_pid).to_string();
        let stopped = oci_state_value(self.state, Status::Stopped, 0).to_string();
        *self.poststop = Some((Point::Poststop.of(self.spec), stopped));
        hooks::run(Point::Prestart, &Point::Prestart.of(self.spec), &json)?;
        hooks::run(
            Point::CreateRuntime,
            &Point::CreateRuntime.of(self.spec),
            &json,
        )?;
        Ok(json)
    }

    fn seccomp(&mut self, init_pid: i32, fd: OwnedFd) -> Result<()> {
        let st = oci_state_value(self.state, Status::Creating, init_pid);
        hooks::send_seccomp_fd(self.spec, st, fd)
    }

    fn died(&mut self, e: Error) -> Error {
        oom_hint(e, self.cg, self.spec)
    }
}

/// Bind sources opened here, as the caller: each a detached copy of the mount (open_tree)
/// that the init attaches with move_mount.
/// - An idmapped mount's copy gets its mapping here: the kernel maps only a detached mount,
///   and wants the host's rights over the source's filesystem.
/// - With a new user namespace every bind is opened so (runc's mount fds): the mapped root may
///   not be allowed to reach the source by path. One that cannot be opened is left to the
///   init, which then names it in its error.
fn open_bind_sources(
    spec: &oci_spec::runtime::Spec,
    bundle: &Path,
    new_userns: bool,
) -> Result<Vec<(usize, OwnedFd)>> {
    use crate::rootfs::idmap;
    let mounts: Vec<_> = spec.mounts().iter().flatten().collect();
    let mut namespaces = idmap::Namespaces::default();
    let mut opened = Vec::new();
    for (i, path, recursive) in crate::rootfs::bind_sources(spec, bundle) {
        match idmap::of(spec, mounts[i])? {
            Some(map) => opened.push((i, idmap::open(&path, recursive, &map, &mut namespaces)?)),
            None if new_userns => {
                if let Ok(tree) = crate::sys::open_tree_clone(&path, recursive) {
                    opened.push((i, tree));
                }
            }
            None => {}
        }
    }
    Ok(opened)
}

fn owner_name() -> String {
    let uid = crate::sys::euid();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 2 && f[2] == uid.to_string()).then(|| f[0].to_string())
        })
        .unwrap_or_else(|| uid.to_string())
}
