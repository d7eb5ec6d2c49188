//! The enclave keeper's socket protocol (`<state dir>/enclave.sock`), framed like the init
//! channel (length-prefixed JSON, fds by SCM_RIGHTS).
//!
//! ```text
//!  rune exec (host side)                         enclave keeper (the container's init)
//!  ── Exec{args, env, cwd} + stdin/out/err fds ──►  pal_create_process
//!  ◄───────────────────────────── Started{pid}      pal_exec (in its own thread)
//!  ── Kill{sig} (signals the exec'd process got) ─► pal_kill(pid, sig)
//!  ◄───────────────────────────── Exited{code}      (then the connection closes)
//!
//!  rune kill (any signal but SIGKILL, to the entrypoint)
//!  ── Signal{sig} ────────────────────────────────►  pal_kill(entrypoint, sig)
//!  ◄───────────────────────────── Done              (or Error: the PAL refused it)
//!
//!  rune attest
//!  ── Report{target_info} ───────────────────────►  pal_get_local_report
//!  ◄───────────────────────────── ReportData{data}
//! ```
//! Any request may be answered with `Error`.

use crate::ipc::channel::End;
use crate::ipc::WireError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    /// Comes with three fds: the process's stdin, stdout and stderr.
    Exec {
        args: Vec<String>,
        env: Vec<String>,
        cwd: Option<PathBuf>,
    },
    /// On an exec's connection: a signal the exec'd process got.
    Kill {
        sig: i32,
    },
    /// `rune kill`: a signal for the entrypoint, answered with Done or the PAL's refusal.
    Signal {
        sig: i32,
    },
    Report {
        target_info: Vec<u8>,
    },
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Reply {
    Started { pid: i32 },
    Exited { code: i32 },
    ReportData { data: Vec<u8> },
    Done,
    Error(WireError),
}

/// The client's end of a connection to the keeper (`rune exec`, `kill`, `attest`, the proxy).
pub type ClientEnd = End<Request, Reply>;
/// The keeper's end of a connection.
pub type KeeperEnd = End<Reply, Request>;
