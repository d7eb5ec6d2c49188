//! liberpal-wasm.so: WebAssembly modules (WASI preview 1 commands) on the wasmi interpreter,
//! for rune.
//!
//! - As an **enclave runtime** implementing the PAL API v3 (`abi/pal.rs`, over `process.rs` and
//!   `report.rs`): a container whose config names it in `enclave.runtime.path` runs its
//!   entrypoint, a `.wasm` file in the container, and each `rune exec`, as modules in the
//!   enclave. With no SGX on hand the enclave is simulated (`enclave.type` `sim`): each module
//!   runs in a process of its own.
//! - As the **engine of plain wasm containers** (`abi/plain.rs`): rune's `wasm` kind of workload
//!   loads this library and runs the entrypoint in the container's init.
//!
//! Both run a module the same way (`module.rs`): its arguments, environment and stdio, the
//! container's root preopened as `/` (WASI fd 3), `proc_exit`'s code as the exit code, a trap
//! as 134 with the trap named on stderr.

// Unsafe code only in the C ABI (abi/) and the libc calls (sys.rs), which allow it; every
// unsafe block says why it is sound.
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod abi;
pub mod module;
mod process;
pub mod report;
#[allow(unsafe_code)]
mod sys;
