//! The process's identity and privileges: user and groups, capabilities, rlimits,
//! no_new_privs, umask.

pub mod capabilities;
pub mod process_attrs;
pub mod rlimits;
#[cfg(feature = "seccomp")]
pub mod seccomp;
#[cfg(feature = "seccomp")]
mod seccomp_enosys;
pub mod user;
