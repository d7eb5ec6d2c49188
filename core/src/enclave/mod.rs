//! Enclave runtimes in containers: configuration (annotations and ENCLAVE_* variables), the
//! hardware each enclave type needs, the PAL loader, the enclave keeper process that the
//! container's init becomes, and the client `exec` and `attest` use to talk to it.

pub mod client;
mod config;
mod devices;
pub mod keeper;
pub mod pal;
pub mod protocol;

pub use config::{type_names, EnclaveConfig, EnclaveType, ANNOTATIONS, EXIT_STATUS_ANNOTATION};
pub use devices::add_devices;

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
