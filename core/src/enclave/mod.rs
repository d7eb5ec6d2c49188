//! Enclave runtimes in containers: configuration (annotations and ENCLAVE_* variables), the
//! hardware each enclave type needs, the PAL loader, the enclave host process that the
//! container's init becomes, and the client `exec` and `attest` use to talk to it.

pub mod client;
mod config;
mod devices;
pub mod host;
pub mod pal;
pub mod protocol;

pub use config::{EnclaveConfig, EnclaveType};
pub use devices::add_devices;

/// The enclave host's socket, in the container's state directory.
pub const SOCKET: &str = "enclave.sock";
