//! The protocol between the host side of rune (`create`/`exec`, in the caller's process) and
//! `rune init` (inside the new namespaces). Frames are length-prefixed JSON on a stream socket;
//! a frame may carry file descriptors (SCM_RIGHTS). Each direction has its own message type,
//! so a message can only be sent the way it goes.
//!
//! ```text
//!  host (rune create / librune)                init: Namespaces stage    init: Setup stage
//!  clone(new namespaces) + execve(rune init) ──►│
//!  ── Start{stage, config} ──────────────────────►│
//!  ◄──────────────────────────── MapRequest{pid} │ (only when init unshares a user namespace)
//!  ── MapsDone (uid_map/gid_map written) ───────►│
//!                                                 │ clone(CLONE_PARENT) + execve ──►│
//!  ◄──────────────────────────────── Pid{pid}    │ exit                            │
//!  ── Start{stage: Setup, config} ──────────────────────────────────────────────►│
//!  ◄──────────────────────────────────────────────────────────── Hooks            │ (mounts done)
//!  ── HooksDone (prestart, createRuntime run) ─────────────────────────────────►│
//!  ◄──────────────────────────────────────────────────── Console + pty fd        │ (terminal)
//!  ◄──────────────────────────────────────────────────────────── Ready            │
//!  writes state.json and the pid file;            init waits on exec.fifo for `start`
//! ```
//! In the common case (no namespace joined by path, no time namespace) the host's clone creates
//! the namespaces and the first init process is already the container's init: it gets
//! `Start{stage: Full}` and there is no Namespaces stage. Any step may answer `Error` instead;
//! the host then kills what it started and removes what it created. An exec'd process's init gets
//! `InitConfig::Exec` and ends in execve (the channel, close-on-exec, then reads EOF); a proxy
//! for a process a kind of workload runs elsewhere (in an enclave) gets `Proxy` with its
//! connection there.

pub use crate::ipc::WireError;
use crate::namespaces::NsType;
pub use crate::namespaces::Stage;
pub use crate::workload::WorkloadConfig;
use oci_spec::runtime::{Process, Spec};
use serde::{Deserialize, Serialize};

use std::path::PathBuf;

/// The host closed the init's channel: it gave up and reports its own error.
pub fn host_gone() -> crate::Error {
    crate::Error::peer_closed("the host closed rune init's channel")
}

/// The host's end of an init's channel.
pub type HostEnd = crate::ipc::channel::End<ToInit, FromInit>;
/// The init's end of its channel.
pub type InitEnd = crate::ipc::channel::End<FromInit, ToInit>;

/// Host → init.
#[derive(Debug, Serialize, Deserialize)]
pub enum ToInit {
    /// The first message of every `rune init`: what it is to be.
    Start { stage: Stage, config: InitConfig },
    /// Carries the connection to where a kind of workload started a process (an enclave's
    /// keeper): stand for that process.
    Proxy { kind: String },
    /// The user namespace's uid_map and gid_map are written.
    MapsDone,
    /// The prestart and createRuntime hooks ran; carries the OCI state for the container's own.
    HooksDone { state: String },
}

/// Init → host.
#[derive(Debug, Serialize, Deserialize)]
pub enum FromInit {
    /// The Namespaces stage unshared a user namespace: write its maps.
    MapRequest {
        pid: i32,
    },
    /// The Namespaces stage is done; `pid` is the Setup stage, the init to configure.
    Pid {
        pid: i32,
    },
    /// The mounts are done: run the host-side hooks.
    Hooks,
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

/// What an init process sets up: a new container, or one more process in a container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum InitConfig {
    Create(Box<CreateConfig>),
    Exec(Box<ExecConfig>),
}

/// The namespace steps an init makes itself, and what both kinds of init have in common.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Common {
    /// The container's config.
    pub spec: Spec,
    pub rootfs: PathBuf,
    /// Namespaces to join by path (user first).
    pub join: Vec<(NsType, PathBuf)>,
    /// Namespaces (CLONE_NEW* flags) the init still has to create itself.
    pub unshare_flags: i32,
    /// Fds 3..3+preserve_fds are passed on to the process.
    pub preserve_fds: i32,
    /// Variables added to the process environment (LISTEN_FDS, LISTEN_PID).
    pub extra_env: Vec<String>,
}

/// A new container. The exec fifo comes with the Start frame, then the enclave keeper's
/// socket (an enclave workload), then the bind sources of `bind_fds`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateConfig {
    pub common: Common,
    pub id: String,
    pub bundle: PathBuf,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    /// What runs once the container is set up.
    pub workload: WorkloadConfig,
    /// The host's cgroup hierarchies with the init's cgroup in each, for a `cgroup` mount.
    pub cgroup_mounts: Vec<crate::rootfs::cgroupfs::Hierarchy>,
    /// The mounts (by index) whose bind source comes opened with the Start frame: opened by
    /// `rune create` before the init entered a new user namespace, which may not reach them
    /// by path.
    pub bind_fds: Vec<usize>,
}

/// One more process in a running container, whose namespaces `common.join` names.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecConfig {
    pub common: Common,
    /// The process to run (the container's spec keeps its own).
    pub process: Process,
}

impl InitConfig {
    pub fn common(&self) -> &Common {
        match self {
            InitConfig::Create(c) => &c.common,
            InitConfig::Exec(c) => &c.common,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn every_error_kind_crosses_unchanged() {
        for kind in ErrorKind::all() {
            let e = crate::Error::new(kind, "m").with_errno(Some(5));
            let json = serde_json::to_string(&FromInit::Error(WireError::from_error(&e))).unwrap();
            let back = match serde_json::from_str::<FromInit>(&json).unwrap() {
                FromInit::Error(w) => w.into_error(),
                other => panic!("{:?}", other),
            };
            assert_eq!(
                (back.kind(), back.errno(), back.message()),
                (kind, Some(5), "m")
            );
        }
    }

    #[test]
    fn an_unknown_error_kind_is_refused_not_guessed() {
        let json = r#"{"Error":{"kind":"Sideways","errno":null,"msg":"m"}}"#;
        assert!(serde_json::from_str::<FromInit>(json).is_err());
    }
}
