//! What the container's init does once the container is set up: its workload, chosen once
//! from the config. [`native::Native`] executes the entrypoint; [`enclave::Enclave`] loads an
//! enclave runtime before the root switch, initialises it, runs the entrypoint inside it and
//! keeps it, serving `exec`, until the entrypoint ends. The init's steps (`process::setup`)
//! call these hooks and know nothing of enclaves.

mod enclave;
mod native;

use crate::err;
use crate::error::Result;
use crate::program::Program;
use std::os::fd::{OwnedFd, RawFd};
use std::path::PathBuf;

/// The container's workload, chosen once from the config (see `crate::workload`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum WorkloadConfig {
    /// The entrypoint is executed.
    Native,
    /// An enclave runtime is loaded and the init keeps the enclave.
    Enclave {
        config: crate::enclave::EnclaveConfig,
        /// The uids, as the init sees them, that may connect to the keeper's socket: host
        /// root and the container's owner, mapped into the container's user namespace.
        peer_uids: Vec<u32>,
        /// The enclave runtime comes opened after the socket: `rune create` opened it, for an
        /// init whose uid cannot reach its path.
        pal_fd: bool,
    },
}

/// The steps of the init that differ with the workload, in the order the init calls them.
pub trait Workload {
    /// The descriptors it was given, to be kept open when the init closes the caller's.
    fn fds(&self) -> Vec<RawFd>;
    /// Before the mounts and the root switch, while host paths still resolve.
    fn load(&mut self) -> Result<()>;
    /// Resolves the program to run in the container (`name` as execvp would, with `env`).
    fn resolve(&self, name: &str, env: &[String]) -> Result<PathBuf>;
    /// The process is prepared (identity, seccomp); the init is about to report Ready.
    /// `calling` tells the host which outside call (e.g. `pal_init`) comes next, for its error
    /// if the init dies in it. Returns the PAL version the record keeps (0 without an enclave
    /// runtime).
    fn ready(&mut self, calling: &dyn Fn(&str) -> Result<()>) -> Result<u32>;
    /// `start` came: runs the program. Returns how the init ends (a native workload only
    /// returns on failure). `fifo` is the exec fifo, held until the program is handed over.
    fn run(self: Box<Self>, program: Program, fifo: OwnedFd) -> Result<i32>;
}

/// The workload of `config`; an enclave's takes its socket from `fds` (next after the fifo),
/// then its runtime's descriptor when one was opened.
pub fn select(
    config: &WorkloadConfig,
    fds: &mut impl Iterator<Item = OwnedFd>,
) -> Result<Box<dyn Workload>> {
    Ok(match config {
        WorkloadConfig::Native => Box::new(native::Native),
        WorkloadConfig::Enclave {
            config,
            peer_uids,
            pal_fd,
        } => {
            let socket = fds
                .next()
                .ok_or_else(|| err!(Internal, "enclave config without its socket"))?;
            let opened = match pal_fd {
                true => Some(fds.next().ok_or_else(|| {
                    err!(Internal, "enclave config without its runtime's descriptor")
                })?),
                false => None,
            };
            Box::new(enclave::Enclave::new(
                config.clone(),
                peer_uids.clone(),
                socket,
                opened,
            ))
        }
    })
}

/// A `rune init` told to be a proxy: it stands for a process the workload runs elsewhere (in
/// an enclave), over `conn`; returns its exit code and an error nobody else was told of.
pub fn proxy(conn: OwnedFd) -> (i32, Option<crate::Error>) {
    crate::enclave::client::proxy(conn)
}
