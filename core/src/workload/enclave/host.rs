//! The host side of an enclave container: `create` binds the keeper's socket and opens the
//! runtime for the init; `exec` runs the process inside the enclave, started by the keeper (a
//! proxy process on the host stands for it: its pid, exit code, signals); `kill` reaches the
//! entrypoint through pal_kill; `attest` asks for a PAL v3 report.

use super::{client, keeper, EnclaveConfig};
use crate::err;
use crate::error::Result;
use crate::workload::{At, Elsewhere, Handler, Record, WorkloadConfig};
use oci_spec::runtime::{Process, Spec};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

/// The kind's name: its record's key in state.json.
pub(super) const KIND: &str = "enclave";

/// What the init's side gets (after the exec fifo: the keeper's socket, then the runtime when
/// `pal_fd`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct InitConfig {
    pub config: EnclaveConfig,
    /// The uids, as the init sees them, that may connect to the keeper's socket: host root
    /// and the container's owner, mapped into the container's user namespace.
    pub peer_uids: Vec<u32>,
    /// The enclave runtime comes opened after the socket: `rune create` opened it, for an
    /// init whose uid cannot reach its path.
    pub pal_fd: bool,
}

pub(super) struct EnclaveHost {
    config: EnclaveConfig,
}

impl EnclaveHost {
    pub fn new(config: EnclaveConfig) -> EnclaveHost {
        EnclaveHost { config }
    }
}

impl Handler for EnclaveHost {
    /// The keeper's socket, bound here (mode 0600, in the 0700 state directory), and the
    /// runtime, opened here too (O_PATH: not read, not loaded): the init loads it from this
    /// descriptor where its uid cannot reach the path. One that cannot be opened is left to
    /// the init, which names the cause.
    fn bind(&mut self, spec: &Spec, state_dir: &Path) -> Result<(WorkloadConfig, Vec<OwnedFd>)> {
        let mut fds = vec![OwnedFd::from(keeper::listen(state_dir)?)];
        let pal = crate::sys::fd::open_path(&self.config.runtime_path).ok();
        let init = InitConfig {
            config: self.config.clone(),
            peer_uids: crate::namespaces::peer_uids(spec),
            pal_fd: pal.is_some(),
        };
        fds.extend(pal);
        let config = serde_json::to_value(init)
            .map_err(|e| err!(Internal, "serialize the enclave's init config: {}", e))?;
        Ok((
            WorkloadConfig {
                kind: Some(KIND.into()),
                config,
            },
            fds,
        ))
    }

    fn ready(&mut self, pal_version: u32) {
        self.config.pal_version = pal_version;
    }

    fn record(&self) -> Record {
        let value = serde_json::to_value(&self.config).unwrap_or(Value::Null);
        Record::from([(KIND.to_string(), value)])
    }

    fn exec(&self, at: &At, process: &Process) -> Option<Result<Elsewhere>> {
        Some(self.exec_in_enclave(at, process))
    }

    /// The entrypoint gets the signal through pal_kill, so that a PAL's refusal reaches the
    /// caller; SIGKILL (and the existence check, 0) go to the enclave keeper itself: SIGKILL
    /// always ends the container, whatever the PAL would do with it.
    fn signal(&self, at: &At, sig: i32) -> Option<Result<()>> {
        let through_pal =
            self.config.pal_version >= 2 && sig != libc::SIGKILL && sig != 0 && at.running();
        through_pal.then(|| client::signal(at.state_dir, sig))
    }

    /// A local attestation report from the enclave runtime (PAL v3's pal_get_local_report).
    fn attest(&self, at: &At, target_info: &[u8]) -> Result<Vec<u8>> {
        if self.config.pal_version < 3 {
            return Err(err!(
                Enclave,
                "attest needs pal_get_local_report, a PAL v3 call: this enclave runtime implements v{}",
                self.config.pal_version
            ));
        }
        if !at.running() {
            return Err(err!(
                InvalidState,
                "cannot attest an enclave container that is {}",
                at.status
            ));
        }
        client::report(at.state_dir, target_info)
    }
}

impl EnclaveHost {
    fn exec_in_enclave(&self, at: &At, p: &Process) -> Result<Elsewhere> {
        if self.config.pal_version == 1 {
            return Err(err!(
                Enclave,
                "exec is not supported by this enclave runtime (PAL v1)"
            ));
        }
        if !at.running() {
            return Err(err!(
                InvalidState,
                "cannot exec in an enclave container that is {}",
                at.status
            ));
        }
        let args = p.args().clone().unwrap_or_default();
        if args.is_empty() {
            return Err(err!(InvalidArgument, "exec: no command given"));
        }
        let env: Vec<String> = p
            .env()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| !e.starts_with("ENCLAVE_"))
            .collect();
        let pty = match p.terminal().unwrap_or(false) {
            true => Some(container_pty(at.init_pid)?),
            false => None,
        };
        let stdio = match &pty {
            Some((_, slave)) => [slave.as_raw_fd(); 3],
            None => [0, 1, 2],
        };
        let cwd =
            Some(p.cwd().clone()).filter(|c| c.as_os_str() != "/" && !c.as_os_str().is_empty());
        let (ch, _pal_pid) = client::start_exec(at.state_dir, args, env, cwd, stdio)?;
        Ok(Elsewhere {
            kind: KIND,
            conn: ch.into_fd(),
            pty_master: pty.map(|(master, _slave)| master),
        })
    }
}

/// A pty from the container's own devpts (through its init's root), so the process in the
/// enclave finds its terminal under /dev/pts; the host's devpts where that is not reachable
/// (rootless: the init's root is not ours to open).
fn container_pty(init_pid: i32) -> Result<(OwnedFd, OwnedFd)> {
    let ptmx = format!("/proc/{}/root/dev/pts/ptmx", init_pid);
    match crate::tty::new_pty_at(&ptmx) {
        Ok(p) => Ok(p),
        Err(_) => crate::tty::new_pty(),
    }
}
