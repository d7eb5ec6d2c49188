//! Signals read from a descriptor (signalfd(2)) rather than handled: the set to block for it,
//! and the descriptor.

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd as NixSignalFd};
use std::io;
use std::os::fd::{AsFd, BorrowedFd};

/// A set of signals.
#[derive(Clone, Copy, Debug)]
pub struct SignalSet(SigSet);

impl SignalSet {
    /// Every signal but those numbered in `except`.
    pub fn all_but(except: &[i32]) -> SignalSet {
        let mut set = SigSet::all();
        for s in except.iter().filter_map(|&s| Signal::try_from(s).ok()) {
            set.remove(s);
        }
        SignalSet(set)
    }

    /// Blocks the signals of the set in this thread (sigprocmask SIG_BLOCK), so that they
    /// queue for a signalfd.
    pub fn block(&self) -> io::Result<()> {
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&self.0), None)
            .map_err(io::Error::from)
    }
}

/// A signalfd: the blocked signals of its set, read one by one.
#[derive(Debug)]
pub struct SignalFd(NixSignalFd);

impl SignalFd {
    /// A signalfd for `set`, close-on-exec and non-blocking.
    pub fn new(set: &SignalSet) -> io::Result<SignalFd> {
        NixSignalFd::with_flags(&set.0, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
            .map(SignalFd)
            .map_err(io::Error::from)
    }

    /// The number of the next pending signal; None when none is pending (or the read failed).
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
