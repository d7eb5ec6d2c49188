//! `exec` and `attest` for enclave containers: the process runs inside the enclave, started by
//! the enclave keeper; a proxy process on the host stands for it (its pid, exit code, signals).

use super::driver::{init_binary, Driver};
use super::exec::{ExecOptions, Execed};
use super::{Container, Status};
use crate::enclave::client;
use crate::err;
use crate::error::Result;
use crate::files::write_pid_file;
use std::os::fd::AsRawFd;

impl Container {
    pub(super) fn exec_in_enclave(
        &self,
        opts: &ExecOptions,
        pal_version: u32,
        status: Status,
    ) -> Result<Execed> {
        if pal_version == 1 {
            return Err(err!(
                Enclave,
                "exec is not supported by this enclave runtime (PAL v1)"
            ));
        }
        if status != Status::Running {
            return Err(err!(
                InvalidState,
                "cannot exec in an enclave container that is {}",
                status.as_str()
            ));
        }
        let p = &opts.process;
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
        let terminal = p.terminal().unwrap_or(false);
        let pty = if terminal {
            Some(container_pty(self.state.init_pid)?)
        } else {
            None
        };
        let stdio = match &pty {
            Some((_, slave)) => [slave.as_raw_fd(); 3],
            None => [0, 1, 2],
        };
        let cwd =
            Some(p.cwd().clone()).filter(|c| c.as_os_str() != "/" && !c.as_os_str().is_empty());
        let dir = self.store.dir_of(self.id());
        let (ch, _pal_pid) = client::start_exec(&dir, args, env, cwd, stdio)?;
        let proxy = Driver::spawn_proxy(&init_binary(&opts.init_binary)?)?;
        proxy.send_proxy(ch.channel().raw())?;
        drop(ch);
        let console = match pty {
            Some((master, _slave)) => match &opts.console_socket {
                Some(sock) => {
                    crate::tty::send_to_socket(sock, master.as_raw_fd())?;
                    None
                }
                None => Some(master),
            },
            None => None,
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

    /// A local attestation report from the enclave runtime (PAL v3's pal_get_local_report).
    pub fn attest(&self, target_info: &[u8]) -> Result<Vec<u8>> {
        let e = self
            .state
            .enclave
            .as_ref()
            .ok_or_else(|| err!(InvalidArgument, "container {} has no enclave", self.id()))?;
        if e.pal_version < 3 {
            return Err(err!(
                Enclave,
                "attest needs pal_get_local_report, a PAL v3 call: this enclave runtime implements v{}",
                e.pal_version
            ));
        }
        let status = self.status();
        if status != Status::Running {
            return Err(err!(
                InvalidState,
                "cannot attest an enclave container that is {}",
                status.as_str()
            ));
        }
        client::report(&self.store.dir_of(self.id()), target_info)
    }
}

/// A pty from the container's own devpts (through its init's root), so the process in the
/// enclave finds its terminal under /dev/pts; the host's devpts where that is not reachable
/// (rootless: the init's root is not ours to open).
fn container_pty(init_pid: i32) -> Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)> {
    let ptmx = format!("/proc/{}/root/dev/pts/ptmx", init_pid);
    match crate::tty::new_pty_at(&ptmx) {
        Ok(p) => Ok(p),
        Err(_) => crate::tty::new_pty(),
    }
}
