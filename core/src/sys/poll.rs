//! Waiting for events on descriptors (poll(2)).

use std::io;
use std::marker::PhantomData;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

/// One descriptor to poll: the events asked for (POLLIN, ...) and, after `poll`, those that
/// came. It borrows the descriptor, which stays open while it is polled.
#[repr(transparent)]
pub struct PollFd<'fd> {
    pfd: libc::pollfd,
    _fd: PhantomData<BorrowedFd<'fd>>,
}

impl<'fd> PollFd<'fd> {
    pub fn new(fd: BorrowedFd<'fd>, events: libc::c_short) -> PollFd<'fd> {
        PollFd {
            pfd: libc::pollfd {
                fd: fd.as_raw_fd(),
                events,
                revents: 0,
            },
            _fd: PhantomData,
        }
    }

    pub fn fd(&self) -> RawFd {
        self.pfd.fd
    }

    /// The events that came (0: none), POLLERR and POLLHUP included.
    pub fn revents(&self) -> libc::c_short {
        self.pfd.revents
    }
}

/// poll(2) on `fds` for up to `timeout` (None: until an event): how many descriptors have
/// events, 0 when the time ran out. The timeout counts whole milliseconds.
pub fn poll(fds: &mut [PollFd<'_>], timeout: Option<Duration>) -> io::Result<usize> {
    let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as libc::c_int);
    // SAFETY: PollFd is a transparent libc::pollfd, so the slice is an array of fds.len()
    // pollfds, alive for the call; poll writes only their revents.
    let r = unsafe {
        libc::poll(
            fds.as_mut_ptr() as *mut libc::pollfd,
            fds.len() as libc::nfds_t,
            ms,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r as usize)
}

/// poll(2) for POLLIN on each of `fds`, up to `timeout` (None: no limit): which of them have
/// something to report (input, hang-up or an error), all false when the time ran out.
pub fn readable<const N: usize>(
    fds: [BorrowedFd<'_>; N],
    timeout: Option<Duration>,
) -> io::Result<[bool; N]> {
    let mut p = fds.map(|fd| PollFd::new(fd, libc::POLLIN));
    poll(&mut p, timeout)?;
    Ok(p.map(|f| f.revents() != 0))
}
