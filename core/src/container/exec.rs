//! `exec`: runs another process in a container's namespaces and cgroup.

use super::driver::{check_console_args, init_binary, listen_fds, Driver, Requests};
use super::Container;
use crate::err;
use crate::error::Result;
use crate::files::write_pid_file;
use crate::namespaces::{self, NsType};
use crate::process::message::{Common, ExecConfig, InitConfig, Stage};
use oci_spec::runtime::Process;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub process: Process,
    pub pid_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    pub preserve_fds: i32,
    pub init_binary: Option<PathBuf>,
    /// Keep the pty master for the caller (foreground `exec -t`).
    pub keep_console: bool,
    /// Pass this process's socket-activation fds (LISTEN_FDS) on, as the CLI does.
    pub listen_fds: bool,
    /// Allow exec into a paused container (it runs once the container is resumed).
    pub ignore_paused: bool,
    /// Sub-cgroups to run in (`--cgroup [controllers:]path`): controllers (None: all) and path.
    pub sub_cgroups: Vec<(Option<Vec<String>>, String)>,
}

/// A started process: its pid (a child of the caller), the pty master if kept, and what the
/// caller should warn about.
pub struct Execed {
    pub pid: i32,
    pub console: Option<OwnedFd>,
    pub warnings: Vec<crate::Error>,
}

/// A process a kind of workload started elsewhere: a `rune init` proxy stands for it on the
/// host (its pid, exit code and signals), in the container's cgroup as an exec'd process is
/// (so `ps`, `kill --all`, pause and the limits see it); its pty goes to the console socket or
/// the caller.
fn stand_in(
    c: &Container,
    opts: &ExecOptions,
    started: crate::workload::Elsewhere,
) -> Result<Execed> {
    let proxy = Driver::spawn_proxy(&init_binary(&opts.init_binary)?)?;
    c.join_cgroups(proxy.pid(), &opts.sub_cgroups)?;
    proxy.send_proxy(started.kind, started.conn)?;
    let console = match (started.pty_master, &opts.console_socket) {
        (Some(master), Some(sock)) => {
            crate::tty::send_to_socket(sock, std::os::fd::AsRawFd::as_raw_fd(&master))?;
            None
        }
        (master, _) => master,
    };
    if let Some(f) = &opts.pid_file {
        write_pid_file(f, proxy.pid())?;
    }
    let pid = proxy.pid();
    proxy.detach();
    Ok(Execed {
        pid,
        console,
        warnings: Vec::new(),
    })
}

impl Container {
    pub fn exec(&self, opts: &ExecOptions) -> Result<Execed> {
        let status = self.status();
        let paused_ok = opts.ignore_paused && status == super::Status::Paused;
        if !(status.can_exec() || paused_ok) {
            return Err(err!(
                InvalidState,
                "cannot exec in a {} container",
                status.as_str()
            ));
        }
        crate::spec::validate_process(&opts.process, "exec: process")?;
        crate::security::process_attrs::check_lsm(&opts.process, None)?;
        check_console_args(
            opts.process.terminal().unwrap_or(false),
            opts.console_socket.as_deref(),
            opts.keep_console,
        )?;
        // The kind of workload may run the process itself (an enclave, inside it).
        let dir = self.store.dir_of(self.id());
        let handler = crate::workload::handler(&self.state.workload)?;
        if let Some(started) = handler.exec(&self.at(&dir, status), &opts.process) {
            return stand_in(self, opts, started?);
        }
        let (listen_n, extra_env) = if opts.listen_fds {
            listen_fds()
        } else {
            (0, Vec::new())
        };
        let preserve = opts.preserve_fds + listen_n;
        let join = self.namespace_paths();
        let has_mount = join.iter().any(|(t, _)| *t == NsType::Mount);
        // No mount namespace of its own (copying the host's mount table costs with every
        // mount the host has): the read-only copy of the binary is a detached mount.
        let mut init =
            Driver::spawn_exec(&init_binary(&opts.init_binary)?, 3 + preserve, has_mount)?;
        init.release()?;
        self.join_cgroups(init.pid(), &opts.sub_cgroups)?;
        let config = ExecConfig {
            common: Common {
                spec: self.state.config.clone(),
                rootfs: self.state.rootfs.clone(),
                join,
                unshare_flags: 0,
                preserve_fds: preserve,
                extra_env,
            },
            process: opts.process.clone(),
        };
        let done = init.run(
            Stage::Namespaces,
            InitConfig::Exec(Box::new(config)),
            &[],
            opts.console_socket.as_deref(),
            &mut ExecAnswers { container: self },
        )?;
        if let Some(p) = &opts.pid_file {
            write_pid_file(p, done.pid)?;
        }
        init.detach();
        let warnings =
            crate::security::capabilities::ungranted_warning(&self.state.config, &opts.process);
        Ok(Execed {
            pid: done.pid,
            console: done.console,
            warnings: warnings.into_iter().collect(),
        })
    }

    /// The init's namespaces, by their /proc paths, in the order they are joined.
    fn namespace_paths(&self) -> Vec<(NsType, PathBuf)> {
        let pid = self.state.init_pid;
        let mut join: Vec<(NsType, PathBuf)> = namespaces::listed(&self.state.config)
            .into_iter()
            .map(|(t, _)| {
                (
                    t,
                    PathBuf::from(format!("/proc/{}/ns/{}", pid, t.proc_name())),
                )
            })
            .collect();
        namespaces::sort_for_joining(&mut join);
        join
    }

    /// Puts the new process in the container's cgroup, or in the sub-cgroups asked for.
    fn join_cgroups(&self, pid: i32, subs: &[(Option<Vec<String>>, String)]) -> Result<()> {
        if let Some(path) = &self.state.cgroup_path {
            if let Err(e) = crate::cgroups::manager(path).add(pid) {
                // cgroup v2 refuses a process in a cgroup whose children have controllers (the
                // init moved itself below and enabled them): join the init's cgroup, as runc
                // does; an explicit --cgroup is joined below instead.
                if e.errno() != Some(libc::EBUSY) {
                    return Err(e);
                }
                if subs.is_empty() {
                    crate::cgroups::join_init_unified(pid, self.state.init_pid)?;
                }
            }
        }
        for (ctrls, sub) in subs {
            crate::cgroups::join_sub(pid, self.state.init_pid, ctrls.as_deref(), sub)?;
        }
        Ok(())
    }
}

/// Exec's answer to the init: the seccomp listener gets the container's state.
struct ExecAnswers<'a> {
    container: &'a Container,
}

impl Requests for ExecAnswers<'_> {
    fn seccomp(&mut self, _init_pid: i32, fd: OwnedFd) -> Result<()> {
        let c = self.container;
        crate::hooks::send_seccomp_fd(&c.state.config, c.oci_state(), fd)
    }
}
