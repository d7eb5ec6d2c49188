//! rune-core: the library behind the `rune` OCI runtime and librune.
//!
//! Layers: `spec` (load and validate config.json), `store` (the state directory of each container),
//! `container` (one file per lifecycle verb), `process` (spawning the container init and the
//! init's own steps), `rootfs`, `namespaces`, `cgroups`, `security`, `hooks`, `tty`.
//! The crate never prints and never exits; the CLI and the C API pick how to report errors.

pub mod cgroups;
pub mod container;
pub mod enclave;
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

pub use container::{Container, CreateOptions, ExecOptions, Status};
pub use error::{Error, ErrorKind, Result};
pub use oci_spec;

/// The OCI runtime-spec version rune implements.
pub const OCI_VERSION: &str = "1.2.0";
/// rune's own version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
