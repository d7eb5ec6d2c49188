//! The enclave kind of workload: an enclave runtime (PAL) in a container, both sides.
//!
//! - `config.rs`, `devices.rs`: what `create` reads (annotations and ENCLAVE_* variables) and
//!   the hardware each enclave type needs.
//! - `host.rs`: the host side (the keeper's socket and the runtime passed to the init, `exec`,
//!   `kill` and `attest` through the keeper), over `client.rs` and `protocol.rs`.
//! - `init.rs`: the init's side: it loads the PAL before the root switch, calls pal_init, and
//!   becomes the enclave keeper (`keeper.rs`), which runs the entrypoint and each exec.
//! - `pal/`: the FFI to enclave runtimes.

pub mod client;
mod config;
mod devices;
mod host;
mod init;
pub mod keeper;
pub mod pal;
pub mod protocol;

pub use config::{type_names, EnclaveConfig, EnclaveType, ANNOTATIONS, EXIT_STATUS_ANNOTATION};
pub use devices::add_devices;

use super::{Handler, Kind, Workload};
use crate::error::{Error, Result};
use oci_spec::runtime::Spec;
use serde_json::Value;
use std::os::fd::OwnedFd;

/// The kind: a container whose config names an enclave type.
pub struct Enclave;

impl Kind for Enclave {
    fn name(&self) -> &'static str {
        host::KIND
    }

    fn claim(&self, spec: &mut Spec) -> Result<Option<Box<dyn Handler>>> {
        let Some(config) = EnclaveConfig::from_spec(spec)? else {
            return Ok(None);
        };
        add_devices(spec, &config)?;
        Ok(Some(Box::new(host::EnclaveHost::new(config))))
    }

    fn handler(&self, record: &Value) -> Result<Box<dyn Handler>> {
        let config: EnclaveConfig = super::parse(record, "enclave record")?;
        Ok(Box::new(host::EnclaveHost::new(config)))
    }

    fn workload(
        &self,
        config: &Value,
        fds: &mut dyn Iterator<Item = OwnedFd>,
    ) -> Result<Box<dyn Workload>> {
        init::select(config, fds)
    }

    fn proxy(&self, conn: OwnedFd) -> (i32, Option<Error>) {
        client::proxy(conn)
    }
}

/// The enclave keeper's socket, in the container's state directory.
pub const SOCKET: &str = "enclave.sock";

/// `/proc/self/fd/<N>/enclave.sock` for an open fd N of `state_dir` (returned: keep it open
/// while the path is used), so the socket's address stays short whatever the directory.
pub(crate) fn short_path(
    state_dir: &std::path::Path,
) -> crate::Result<(std::fs::File, std::path::PathBuf)> {
    use std::os::fd::AsRawFd;
    let dir = std::fs::File::open(state_dir)
        .map_err(|e| crate::Error::io(format!("open {}", state_dir.display()), e))?;
    let p = std::path::PathBuf::from(format!("/proc/self/fd/{}/{}", dir.as_raw_fd(), SOCKET));
    Ok((dir, p))
}
