//! The host side of an enclave container's socket: starting an exec'd process in the enclave,
//! the proxy process that stands for it, and attestation reports.

use super::protocol::{Reply, Request};
use crate::err;
use crate::error::{Error, Result};
use crate::process::channel::Channel;
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

fn connect(state_dir: &Path) -> Result<Channel> {
    let path = state_dir.join(super::SOCKET);
    let (_dir, short) = super::short_path(state_dir)?;
    let s = UnixStream::connect(&short).map_err(|e| {
        Error::io(
            format!("connect to the enclave host at {}", path.display()),
            e,
        )
    })?;
    Ok(Channel::from_fd(OwnedFd::from(s)))
}

fn reply(ch: &Channel) -> Result<Reply> {
    match ch.recv::<Reply>()? {
        Some((Reply::Error(e), _)) => Err(e.into_error()),
        Some((r, _)) => Ok(r),
        None => Err(err!(Enclave, "the enclave host closed the connection")),
    }
}

/// The reply to a request; when the send failed, the host may have refused the connection
/// first (its reason is waiting to be read): that reason is the error.
fn refused_or(ch: &Channel, sent: Result<()>) -> Result<Reply> {
    match sent {
        Ok(()) => reply(ch),
        Err(e) => match ch.recv::<Reply>() {
            Ok(Some((Reply::Error(w), _))) => Err(w.into_error()),
            _ => Err(e),
        },
    }
}

/// Asks the enclave host to run a process; returns the connection, which then carries Kill
/// requests and the exit code, and the PAL's id of the process.
pub fn start_exec(
    state_dir: &Path,
    args: Vec<String>,
    env: Vec<String>,
    cwd: Option<PathBuf>,
    stdio: [RawFd; 3],
) -> Result<(Channel, i32)> {
    let ch = connect(state_dir)?;
    let sent = ch.send_with_fds(&Request::Exec { args, env, cwd }, &stdio);
    match refused_or(&ch, sent)? {
        Reply::Started { pid } => Ok((ch, pid)),
        other => Err(err!(
            Internal,
            "unexpected reply from the enclave host: {:?}",
            other
        )),
    }
}

/// `rune kill`: the enclave host passes `sig` to the entrypoint with pal_kill; a PAL's
/// refusal is the error.
pub fn signal(state_dir: &Path, sig: i32) -> Result<()> {
    let ch = connect(state_dir)?;
    let sent = ch.send(&Request::Signal { sig });
    // A refusal is answered before anything else. Sent, a connection closing unanswered means
    // the host ended meanwhile (the signal ended the entrypoint, and the host with it).
    match ch.recv::<Reply>() {
        Ok(Some((Reply::Error(e), _))) => Err(e.into_error()),
        Ok(Some((Reply::Done, _))) => Ok(()),
        Ok(None) if sent.is_ok() => Ok(()),
        Ok(Some((other, _))) => Err(err!(
            Internal,
            "unexpected reply from the enclave host: {:?}",
            other
        )),
        // Not even sent: the send's error says why.
        Ok(None) => sent,
        Err(e) => Err(sent.err().unwrap_or(e)),
    }
}

/// pal_get_local_report through the enclave host.
pub fn report(state_dir: &Path, target_info: &[u8]) -> Result<Vec<u8>> {
    let ch = connect(state_dir)?;
    let sent = ch.send(&Request::Report {
        target_info: target_info.to_vec(),
    });
    match refused_or(&ch, sent)? {
        Reply::ReportData { data } => Ok(data),
        other => Err(err!(
            Internal,
            "unexpected reply from the enclave host: {:?}",
            other
        )),
    }
}

/// `rune init <fd> proxy`: stands for a process running in the enclave. Signals it gets are
/// sent as kill requests; it exits with the process's exit code.
pub fn proxy_main(fd: RawFd) -> i32 {
    // SAFETY: the fd was passed to us for this purpose and nothing else owns it.
    let ch = unsafe { Channel::from_raw(fd) };
    let mut set = SigSet::all();
    for s in [
        Signal::SIGKILL,
        Signal::SIGSTOP,
        Signal::SIGSEGV,
        Signal::SIGBUS,
        Signal::SIGILL,
        Signal::SIGFPE,
        Signal::SIGCHLD,
    ] {
        set.remove(s);
    }
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None);
    let sfd = match SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK) {
        Ok(s) => s,
        Err(_) => return 255,
    };
    loop {
        let mut fds = [
            libc::pollfd {
                fd: sfd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: ch.raw(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: a valid array of two pollfds.
        if unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) } < 0 {
            continue;
        }
        if fds[0].revents != 0 {
            while let Ok(Some(info)) = sfd.read_signal() {
                let _ = ch.send(&Request::Kill {
                    sig: info.ssi_signo as i32,
                });
            }
        }
        if fds[1].revents != 0 {
            return match ch.recv::<Reply>() {
                Ok(Some((Reply::Exited { code }, _))) => code,
                Ok(Some((Reply::Error(e), _))) => {
                    eprintln!("rune: {}", e.msg);
                    255
                }
                _ => 255,
            };
        }
    }
}
