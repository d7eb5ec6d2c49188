//! `exec`: runs another process in a container's namespaces and cgroup.

use super::create::{check_console_args, init_binary, init_end, listen_fds, write_pid_file};
use super::init_failure::died;
use super::Container;
use crate::cgroups::Manager;
use crate::err;
use crate::error::Result;
use crate::namespaces;
use crate::process::channel;
use crate::process::message::{InitConfig, Mode, Msg, NsType, Stage};
use crate::process::{spawn, wait_exit};
use oci_spec::runtime::Process;
use std::os::fd::{AsRawFd, OwnedFd};
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

/// A started process: its pid (a child of the caller) and the pty master if kept.
pub struct Execed {
    pub pid: i32,
    pub console: Option<OwnedFd>,
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
        if let Some(e) = &self.state.enclave {
            return self.exec_in_enclave(opts, e.pal_version, status);
        }
        let spec = &self.state.config;
        let pid = self.state.init_pid;
        let mut join: Vec<(NsType, PathBuf)> = namespaces::listed(spec)
            .into_iter()
            .map(|(t, _)| {
                (
                    t,
                    PathBuf::from(format!("/proc/{}/ns/{}", pid, t.proc_name())),
                )
            })
            .collect();
        join.sort_by_key(|(t, _)| NsType::JOIN_ORDER.iter().position(|o| o == t));
        let has_mount = join.iter().any(|(t, _)| *t == NsType::Mount);
        let (listen_n, extra_env) = if opts.listen_fds {
            listen_fds()
        } else {
            (0, Vec::new())
        };
        let preserve = opts.preserve_fds + listen_n;
        let (host, init) = channel::pair()?;
        let init = init_end(init, 3 + preserve)?;
        let exe = init_binary(&opts.init_binary)?;
        let flags = if has_mount { libc::CLONE_NEWNS } else { 0 };
        let sp = spawn::Plan::new(&exe, init.as_raw_fd(), flags)?;
        let mut child = sp.spawn(init.as_raw_fd())?;
        drop(init);
        let kill = |pids: &[i32]| {
            for p in pids {
                // SAFETY: signalling and reaping our own children.
                unsafe { libc::kill(*p, libc::SIGKILL) };
                let _ = wait_exit(*p);
            }
        };
        let result = (|| -> Result<Execed> {
            child.release()?;
            if let Some(path) = &self.state.cgroup_path {
                if let Err(e) = Manager::load(path).add(child.pid) {
                    // cgroup v2 refuses a process in a cgroup whose children have controllers
                    // (the init moved itself below and enabled them): join the init's cgroup,
                    // as runc does; an explicit --cgroup is joined below instead.
                    if e.errno() != Some(libc::EBUSY) {
                        return Err(e);
                    }
                    if opts.sub_cgroups.is_empty() {
                        crate::cgroups::join_init_unified(child.pid, self.state.init_pid)?;
                    }
                }
            }
            for (ctrls, sub) in &opts.sub_cgroups {
                crate::cgroups::join_sub(child.pid, self.state.init_pid, ctrls.as_deref(), sub)?;
            }
            let mut cfg = InitConfig {
                mode: Mode::Exec,
                stage: Stage::Namespaces,
                id: self.id().to_string(),
                spec: spec.clone(),
                process: Some(opts.process.clone()),
                rootfs: self.state.rootfs.clone(),
                bundle: self.state.bundle.clone(),
                no_pivot: false,
                no_new_keyring: true,
                preserve_fds: preserve,
                extra_env,
                join,
                unshare_flags: 0,
                has_fifo: false,
                cgroup_paths: Default::default(),
                enclave: None,
                peer_uids: Vec::new(),
                bind_fds: Vec::new(),
            };
            host.send(&Msg::Config(Box::new(cfg.clone())))?;
            let mut final_pid = None;
            let mut console = None;
            loop {
                let (msg, mut fds) = match host.recv()? {
                    Some(m) => m,
                    None if final_pid.is_some() => break,
                    None => return Err(died(&child, child.pid, None)),
                };
                match msg {
                    Msg::Pid { pid } => {
                        let _ = wait_exit(child.pid);
                        final_pid = Some(pid);
                        cfg.stage = Stage::Setup;
                        host.send(&Msg::Config(Box::new(cfg.clone())))?;
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
                    Msg::Seccomp => {
                        let fd = fds
                            .pop()
                            .ok_or_else(|| err!(Internal, "seccomp message without an fd"))?;
                        crate::hooks::send_seccomp_fd(spec, self.oci_state(), fd)?;
                    }
                    Msg::Error(e) => {
                        if let Some(p) = final_pid {
                            let _ = wait_exit(p);
                        }
                        return Err(e.into_error());
                    }
                    other => {
                        return Err(err!(
                            Internal,
                            "unexpected message from rune init: {:?}",
                            other
                        ))
                    }
                }
            }
            let pid = final_pid.ok_or_else(|| err!(Internal, "exec: no process started"))?;
            if let Some(p) = &opts.pid_file {
                if let Err(e) = write_pid_file(p, pid) {
                    kill(&[pid]);
                    return Err(e);
                }
            }
            Ok(Execed { pid, console })
        })();
        if result.is_err() && crate::procfs::stat(child.pid).is_some() {
            kill(&[child.pid]);
        }
        result
    }
}
