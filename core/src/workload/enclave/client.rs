//! The host side of an enclave container's socket: starting an exec'd process in the enclave,
//! the proxy process that stands for it, and attestation reports.

use super::protocol::{ClientEnd, Reply, Request};
use crate::err;
use crate::error::{Error, Result};
use crate::ipc::channel::{Channel, End};
use crate::sys::poll;
use crate::sys::signalfd::{SignalFd, SignalSet};
use std::os::fd::{AsFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

fn connect(state_dir: &Path) -> Result<ClientEnd> {
    let path = state_dir.join(super::SOCKET);
    let (_dir, short) = super::short_path(state_dir)?;
    let s = UnixStream::connect(&short).map_err(|e| {
        Error::io(
            format!("connect to the enclave keeper at {}", path.display()),
            e,
        )
    })?;
    Ok(End::new(Channel::from_fd(OwnedFd::from(s))))
}

fn reply(ch: &ClientEnd) -> Result<Reply> {
    match ch.recv()? {
        Some((Reply::Error(e), _)) => Err(e.into_error()),
        Some((r, _)) => Ok(r),
        None => Err(err!(Enclave, "the enclave keeper closed the connection")),
    }
}

/// The reply to a request; when the send failed, the host may have refused the connection
/// first (its reason is waiting to be read): that reason is the error.
fn refused_or(ch: &ClientEnd, sent: Result<()>) -> Result<Reply> {
    match sent {
        Ok(()) => reply(ch),
        Err(e) => match ch.recv() {
            Ok(Some((Reply::Error(w), _))) => Err(w.into_error()),
            _ => Err(e),
        },
    }
}

/// Asks the enclave keeper to run a process; returns the connection, which then carries Kill
/// requests and the exit code, and the PAL's id of the process.
pub fn start_exec(
    state_dir: &Path,
    args: Vec<String>,
    env: Vec<String>,
    cwd: Option<PathBuf>,
    stdio: [RawFd; 3],
) -> Result<(ClientEnd, i32)> {
    let ch = connect(state_dir)?;
    let sent = ch.send_with_fds(&Request::Exec { args, env, cwd }, &stdio);
    match refused_or(&ch, sent)? {
        Reply::Started { pid } => Ok((ch, pid)),
        other => Err(err!(
            Internal,
            "unexpected reply from the enclave keeper: {:?}",
            other
        )),
    }
}

/// `rune kill`: the enclave keeper passes `sig` to the entrypoint with pal_kill; a PAL's
/// refusal is the error.
pub fn signal(state_dir: &Path, sig: i32) -> Result<()> {
    let ch = connect(state_dir)?;
    let sent = ch.send(&Request::Signal { sig });
    // A refusal is answered before anything else. Sent, a connection closing unanswered means
    // the host ended meanwhile (the signal ended the entrypoint, and the host with it).
    match ch.recv() {
        Ok(Some((Reply::Error(e), _))) => Err(e.into_error()),
        Ok(Some((Reply::Done, _))) => Ok(()),
        Ok(None) if sent.is_ok() => Ok(()),
        Ok(Some((other, _))) => Err(err!(
            Internal,
            "unexpected reply from the enclave keeper: {:?}",
            other
        )),
        // Not even sent: the send's error says why.
        Ok(None) => sent,
        Err(e) => Err(sent.err().unwrap_or(e)),
    }
}

/// pal_get_local_report through the enclave keeper.
pub fn report(state_dir: &Path, target_info: &[u8]) -> Result<Vec<u8>> {
    let ch = connect(state_dir)?;
    let sent = ch.send(&Request::Report {
        target_info: target_info.to_vec(),
    });
    match refused_or(&ch, sent)? {
        Reply::ReportData { data } => Ok(data),
        other => Err(err!(
            Internal,
            "unexpected reply from the enclave keeper: {:?}",
            other
        )),
    }
}

/// The proxy (a `rune init` told `Proxy`): stands for a process running in the enclave, over
/// `conn`, its connection to the keeper. Signals it gets are sent as kill requests; returns
/// the process's exit code, and the keeper's error if it sent one.
pub fn proxy(conn: OwnedFd) -> (i32, Option<Error>) {
    let ch: ClientEnd = End::new(Channel::from_fd(conn));
    // Every signal is forwarded but the uncatchable ones, a fault of this process's own and
    // SIGCHLD.
    let keep = [
        libc::SIGKILL,
        libc::SIGSTOP,
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
        libc::SIGCHLD,
    ];
    let set = SignalSet::all_but(&keep);
    let _ = set.block();
    let sfd = match SignalFd::new(&set) {
        Ok(s) => s,
        Err(_) => return (255, None),
    };
    loop {
        let fds = [sfd.as_fd(), ch.channel().fd.as_fd()];
        let Ok([signals, reply]) = poll::readable(fds, None) else {
            continue;
        };
        if signals {
            while let Some(sig) = sfd.next() {
                let _ = ch.send(&Request::Kill { sig });
            }
        }
        if reply {
            return match ch.recv() {
                Ok(Some((Reply::Exited { code }, _))) => (code, None),
                Ok(Some((Reply::Error(e), _))) => (255, Some(e.into_error())),
                _ => (255, None),
            };
        }
    }
}
