//! librune: the C ABI of rune, over `rune-core` (no second implementation).
//!
//! Conventions (repeated in the preamble of `include/rune.h`):
//! - Every object is an opaque handle with a `_new`/`_load` and a `_free`; `_free(NULL)` is a
//!   no-op and a freed or foreign handle is detected ([`handle`]).
//! - Every fallible function returns a `rune_result_t` and takes a last `rune_error_t **err_out`
//!   (NULL allowed) that receives a new error on failure ([`error`]). There is no thread-local
//!   "last error".
//! - Inputs are borrowed for the call and copied; librune never retains a caller's pointer.
//! - Every exported body runs inside a panic boundary ([`panic`]).
//! - librune never forks Rust code: each container init and exec'd process is the `rune`
//!   binary, executed as `rune init` ([`init_binary`]).

// The exported items carry their C names (rune_context_t, rune_result, ...).
#![allow(non_camel_case_types)]
// The safety contract of every exported function (valid pointers, NUL-terminated UTF-8
// strings, no concurrent `_free`) is stated once, in the preamble of rune.h, and each function
// documents its own ownership and threading rules instead of a `# Safety` section.
#![allow(clippy::missing_safety_doc)]

// Public modules in the order their items appear in rune.h (cbindgen keeps parse order).
pub mod container;
pub mod context;
pub mod enclave;
pub mod error;
pub mod exec;
pub mod exec_options;
pub mod log;
pub mod options;
pub mod string;
pub mod version;

mod bundle;
mod child;
mod handle;
mod init_binary;
mod panic;
