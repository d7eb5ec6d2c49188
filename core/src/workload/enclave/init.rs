//! The init's side of an enclave container: it loads the enclave runtime (PAL) from its host
//! path before the root switch, calls pal_init once the container is set up, and after `start`
//! keeps the enclave (`keeper`), running the entrypoint inside it and serving `exec`.

use super::host::InitConfig;
use super::pal::Pal;
use super::{keeper, EnclaveConfig};
use crate::err;
use crate::error::Result;
use crate::program::{lookup, Program};
use crate::workload::Workload;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;

/// The init's workload from the config `host::bind` sent, taking the keeper's socket from
/// `fds` (next after the fifo), then the runtime's descriptor when one was opened.
pub(super) fn select(
    config: &serde_json::Value,
    fds: &mut dyn Iterator<Item = OwnedFd>,
) -> Result<Box<dyn Workload>> {
    let c: InitConfig = crate::workload::parse(config, "enclave init config")?;
    let socket = fds
        .next()
        .ok_or_else(|| err!(Internal, "enclave config without its socket"))?;
    let opened = match c.pal_fd {
        true => Some(
            fds.next()
                .ok_or_else(|| err!(Internal, "enclave config without its runtime's descriptor"))?,
        ),
        false => None,
    };
    Ok(Box::new(EnclaveInit::new(
        c.config,
        c.peer_uids,
        socket,
        opened,
    )))
}

struct EnclaveInit {
    config: EnclaveConfig,
    peer_uids: Vec<u32>,
    socket: UnixListener,
    /// The enclave runtime as `rune create` opened it.
    opened: Option<OwnedFd>,
    pal: Option<Pal>,
}

impl EnclaveInit {
    fn new(
        config: EnclaveConfig,
        peer_uids: Vec<u32>,
        socket: OwnedFd,
        opened: Option<OwnedFd>,
    ) -> EnclaveInit {
        EnclaveInit {
            config,
            peer_uids,
            socket: UnixListener::from(socket),
            opened,
            pal: None,
        }
    }
}

/// `ready` or `run` before `load`: a bug of the init's steps.
fn not_loaded() -> crate::Error {
    err!(Internal, "the enclave runtime is not loaded")
}

impl Workload for EnclaveInit {
    fn fds(&self) -> Vec<RawFd> {
        let mut fds = vec![self.socket.as_raw_fd()];
        fds.extend(self.opened.as_ref().map(|f| f.as_raw_fd()));
        fds
    }

    /// From its path (so that it finds what lies beside it), or, where the init cannot reach
    /// that path (a uid of a new user namespace below a directory only root may enter), from
    /// the descriptor `rune create` opened.
    fn load(&mut self) -> Result<()> {
        let path = &self.config.runtime_path;
        let denied = |e: std::io::Error| e.kind() == std::io::ErrorKind::PermissionDenied;
        let from = match &self.opened {
            Some(fd) if std::fs::metadata(path).is_err_and(denied) => {
                crate::sys::fd_path(fd.as_raw_fd())
            }
            _ => path.clone(),
        };
        self.pal = Some(Pal::load_named(&from, path, self.config.exit_status)?);
        self.opened = None;
        Ok(())
    }

    /// A library OS has its own file system: a path the container does not have is passed
    /// on as given, for the enclave runtime to resolve.
    fn resolve(&self, name: &str, env: &[String]) -> Result<PathBuf> {
        Ok(lookup(name, env).unwrap_or_else(|_| PathBuf::from(name)))
    }

    fn ready(&mut self, _program: &Program, calling: &dyn Fn(&str) -> Result<()>) -> Result<u32> {
        let pal = self.pal.as_ref().ok_or_else(not_loaded)?;
        calling("pal_init")?;
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
