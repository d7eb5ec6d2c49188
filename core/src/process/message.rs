//! The protocol between the host side of rune (`create`/`exec`, in the caller's process) and
//! `rune init` (inside the new namespaces). Frames are length-prefixed JSON on a stream socket;
//! a frame may carry file descriptors (SCM_RIGHTS).
//!
//! ```text
//!  host (rune create / librune)                init stage A          init stage B (= the init)
//!  clone(new namespaces) + execve(rune init) ──►│
//!  ── Config{stage} ─────────────────────────────►│
//!  ◄──────────────────────────── MapRequest{pid} │ (only when init unshares a user namespace)
//!  ── MapsDone (uid_map/gid_map written) ───────►│
//!                                                 │ clone(CLONE_PARENT) + execve ──►│
//!  ◄──────────────────────────────── Pid{pid}    │ exit                            │
//!  ── Config{stage: Setup} ─────────────────────────────────────────────────────►│
//!  ◄──────────────────────────────────────────────────────────── Hooks            │ (mounts done)
//!  ── HooksDone (prestart, createRuntime run) ─────────────────────────────────►│
//!  ◄──────────────────────────────────────────────────── Console + pty fd        │ (terminal)
//!  ◄──────────────────────────────────────────────────────────── Ready            │
//!  writes state.json and the pid file;            init waits on exec.fifo for `start`
//! ```
//! In the common case (no namespace joined by path, no time namespace) the host's clone creates
//! the namespaces and the first init process is already the container's init: it gets
//! `Config{stage: Full}` and there is no stage A. Any step may answer `Error` instead; the
//! host then kills what it started and removes what it created.

use oci_spec::runtime::{Process, Spec};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Serialize, Deserialize)]
pub enum Msg {
    Config(Box<InitConfig>),
    MapRequest {
        pid: i32,
    },
    MapsDone,
    Pid {
        pid: i32,
    },
    Hooks,
    /// Carries the OCI state for the container's own hooks.
    HooksDone {
        state: String,
    },
    /// Carries the pty master.
    Console,
    /// Carries the seccomp notify fd, for the config's listenerPath.
    Seccomp,
    /// The init is about to call into the enclave runtime (so a crash can be named).
    Calling {
        call: String,
    },
    /// Set up and waiting for `start`; the PAL API version for an enclave container.
    Ready {
        #[serde(default)]
        pal_version: u32,
    },
    Error(WireError),
}

/// An error as it crosses the socket: kind name, errno and message, so the host rebuilds it.
#[derive(Debug, Serialize, Deserialize)]
pub struct WireError {
    pub kind: String,
    pub errno: Option<i32>,
    pub msg: String,
}

/// Which part of the work an init process is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    /// Namespaces created by the host's clone: finish them and set the container up.
    Full,
    /// Join and create namespaces, fork the real init (stage B) and exit.
    Namespaces,
    /// Namespaces are done: set the container (or exec'd process) up.
    Setup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    Create,
    Exec,
}

/// Everything an init process needs, sent by the host.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InitConfig {
    pub mode: Mode,
    pub stage: Stage,
    pub id: String,
    pub spec: Spec,
    /// For exec: the process to run (the container's spec keeps its own process).
    pub process: Option<Process>,
    pub rootfs: PathBuf,
    pub bundle: PathBuf,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    /// Fds 3..3+preserve_fds are passed on to the container process.
    pub preserve_fds: i32,
    /// The enclave runtime to load and host, for an enclave container.
    pub enclave: Option<crate::enclave::EnclaveConfig>,
    /// Variables added to the process environment (LISTEN_FDS, LISTEN_PID).
    pub extra_env: Vec<String>,
    /// Namespaces to join by path (user first), done by the init.
    pub join: Vec<(NsType, PathBuf)>,
    /// Namespaces (CLONE_NEW* flags) the init still has to create itself.
    pub unshare_flags: i32,
    /// True when an exec fifo fd comes with the Config frame.
    pub has_fifo: bool,
    /// The init's cgroup in each hierarchy (first controller, or "" for v2), host paths.
    pub cgroup_paths: std::collections::HashMap<String, String>,
    /// The uids, as the init sees them, that may connect to the enclave host's socket: host
    /// root and the container's owner, mapped into the container's user namespace.
    pub peer_uids: Vec<u32>,
    /// The mounts (by index) whose bind source comes opened with the Config frame, after the
    /// fifo and the enclave socket: opened by `rune create` before the init entered a new
    /// user namespace, which may not reach them by path.
    pub bind_fds: Vec<usize>,
}

pub use crate::namespaces::NsType;

impl WireError {
    pub fn from_error(e: &crate::Error) -> Self {
        WireError {
            kind: format!("{:?}", e.kind()),
            errno: e.errno(),
            msg: e.message().to_string(),
        }
    }

    pub fn into_error(self) -> crate::Error {
        use crate::ErrorKind::*;
        let kind = match self.kind.as_str() {
            "NotFound" => NotFound,
            "AlreadyExists" => AlreadyExists,
            "InvalidState" => InvalidState,
            "InvalidSpec" => InvalidSpec,
            "InvalidArgument" => InvalidArgument,
            "PermissionDenied" => PermissionDenied,
            "Os" => Os,
            "Enclave" => Enclave,
            _ => Internal,
        };
        crate::Error::new(kind, self.msg).with_errno(self.errno)
    }
}
