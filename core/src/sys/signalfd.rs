//! Signals read from a descriptor (signalfd(2)) instead of handled, with the signals it reads
//! blocked.

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::SfdFlags;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};

/// Every signal (realtime ones too) but those of `except`.
fn all_but(except: &[i32]) -> io::Result<SigSet> {
    let mut set = SigSet::all();
    for &s in except {
        set.remove(Signal::try_from(s).map_err(io::Error::from)?);
    }
    Ok(set)
}

/// sigprocmask(SIG_BLOCK) of every signal but those of `except`, for this thread.
pub fn block_all_but(except: &[i32]) -> io::Result<()> {
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&all_but(except)?), None)
        .map_err(io::Error::from)
}

/// A signalfd (close-on-exec, non-blocking): the pending signals of a set, one by one.
pub struct SignalFd(nix::sys::signalfd::SignalFd);

impl SignalFd {
    /// Reads every signal but those of `except` (which should be blocked: see `block_all_but`).
    pub fn all_but(except: &[i32]) -> io::Result<SignalFd> {
        let flags = SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK;
        nix::sys::signalfd::SignalFd::with_flags(&all_but(except)?, flags)
            .map(SignalFd)
            .map_err(io::Error::from)
    }

    /// The number of the next pending signal, or None when there is none (or the read failed).
    pub fn next(&self) -> Option<i32> {
        match self.0.read_signal() {
            Ok(Some(info)) => Some(info.ssi_signo as i32),
            _ => None,
        }
    }
}

impl AsFd for SignalFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}
