//! The enclave workload: the init loads the enclave runtime (PAL) from its host path before
//! the root switch, calls pal_init once the container is set up, and after `start` keeps the
//! enclave (`enclave::keeper`), running the entrypoint inside it and serving `exec`.

use super::Workload;
use crate::enclave::pal::Pal;
use crate::enclave::{keeper, EnclaveConfig};
use crate::err;
use crate::error::Result;
use crate::process::message::{FromInit, InitEnd};
use crate::process::program::{lookup, Program};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;

pub struct Enclave {
    config: EnclaveConfig,
    peer_uids: Vec<u32>,
    socket: UnixListener,
    pal: Option<Pal>,
}

impl Enclave {
    pub fn new(config: EnclaveConfig, peer_uids: Vec<u32>, socket: OwnedFd) -> Enclave {
        Enclave {
            config,
            peer_uids,
            socket: UnixListener::from(socket),
            pal: None,
        }
    }
}

/// `ready` or `run` before `load`: a bug of the init's steps.
fn not_loaded() -> crate::Error {
    err!(Internal, "the enclave runtime is not loaded")
}

impl Workload for Enclave {
    fn fds(&self) -> Vec<RawFd> {
        vec![self.socket.as_raw_fd()]
    }

    fn load(&mut self) -> Result<()> {
        self.pal = Some(Pal::load_with(
            &self.config.runtime_path,
            self.config.exit_status,
        )?);
        Ok(())
    }

    /// A library OS has its own file system: a path the container does not have is passed
    /// on as given, for the enclave runtime to resolve.
    fn resolve(&self, name: &str, env: &[String]) -> Result<PathBuf> {
        Ok(lookup(name, env).unwrap_or_else(|_| PathBuf::from(name)))
    }

    fn ready(&mut self, ch: &InitEnd) -> Result<u32> {
        let pal = self.pal.as_ref().ok_or_else(not_loaded)?;
        ch.send(&FromInit::Calling {
            call: "pal_init".into(),
        })?;
        pal.init(&self.config.args, &self.config.log_level)?;
        Ok(pal.version())
    }

    fn run(mut self: Box<Self>, program: Program, fifo: OwnedFd) -> Result<i32> {
        let pal = self.pal.take().ok_or_else(not_loaded)?;
        // The keeper stays: let go of the fifo as the entrypoint is handed over.
        drop(fifo);
        let (path, argv, env) = program.strings();
        Ok(keeper::run(
            pal,
            self.socket,
            self.peer_uids,
            &path,
            &argv,
            &env,
        ))
    }
}
