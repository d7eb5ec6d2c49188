//! Spawning the container init and exec'd processes, and the init's own steps.
//!
//! The process model (why it is shaped this way):
//! - rune's code is also called from librune inside multi-threaded hosts (Go programs), so the
//!   host never runs anything but raw system calls between `clone` and `execve`: the child
//!   re-executes the rune binary as `rune init <fd>` ([`spawn`]), a fresh single-threaded process
//!   that does all the container set-up in Rust ([`init`]).
//! - Before that `execve`, in a private mount namespace, the child bind-mounts the rune binary
//!   read-only onto itself and executes it from there. `/proc/<pid>/exe` of every rune process
//!   inside a container then points at a read-only mount: a process in the container cannot
//!   write the host's rune binary through it (CVE-2019-5736). Every rune init is also made
//!   non-dumpable, so it cannot be ptraced or have its memory read.
//! - The init stays a Rust process until `start`, so an enclave keeper can load a PAL from a host
//!   path before entering the container's root, and stay alive as the enclave's host.

mod create_steps;
mod identity;
pub mod init;
pub mod message;
pub(crate) mod setup;
pub mod spawn;
mod wait;

pub use wait::{wait_exit, wait_gone, ExitStatus};
