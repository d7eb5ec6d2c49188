//! rune-core: the library behind the `rune` OCI runtime and librune.
//!
//! Layers (docs/architecture.md; scripts/layers.py checks them): `container` (one file per
//! lifecycle verb), `store` (the state directory of each container), `process` (spawning the
//! container init and the init's own steps), `workload` (each kind of workload, both sides:
//! native, enclave), `spec`, `rootfs`, `namespaces`, `cgroups`, `security`, `hooks`, `sys`.
//! The crate never prints and never exits; the CLI and the C API pick how to report errors.

pub mod cgroups;
pub mod container;
pub mod error;
pub mod files;
mod hook_output;
pub mod hooks;
pub mod ipc;
mod mountinfo;
pub mod namespaces;
pub mod netdev;
pub mod process;
pub mod procfs;
pub mod program;
pub mod rootfs;
pub mod security;
pub mod spec;
pub mod store;
pub mod sys;
pub mod tty;
pub mod workload;

/// The enclave kind of workload (`workload::enclave`), by its old path.
pub use workload::enclave;

pub use container::{Container, CreateOptions, ExecOptions, Status};
pub use error::{Error, ErrorKind, Result};
pub use oci_spec;

/// The OCI runtime-spec version rune implements.
pub const OCI_VERSION: &str = "1.2.0";
/// rune's own version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
