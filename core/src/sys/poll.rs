//! Waiting for descriptors to become readable (poll(2)).

use nix::poll::{PollFd, PollFlags, PollTimeout};
use std::io;
use std::os::fd::BorrowedFd;
use std::time::Duration;

/// poll(2) for POLLIN on each of `fds`, up to `timeout` (None: no limit; a longer one than
/// poll takes is cut to its longest, about 24 days): which of them have something to report
/// (input, hang-up or an error), all false when the time ran out.
pub fn readable<const N: usize>(
    fds: [BorrowedFd; N],
    timeout: Option<Duration>,
) -> io::Result<[bool; N]> {
    let mut p = fds.map(|fd| PollFd::new(fd, PollFlags::POLLIN));
    let timeout = match timeout {
        None => PollTimeout::NONE,
        Some(t) => PollTimeout::try_from(t).unwrap_or(PollTimeout::MAX),
    };
    nix::poll::poll(&mut p, timeout).map_err(io::Error::from)?;
    Ok(p.map(|f| f.revents().is_some_and(|r| !r.is_empty())))
}
