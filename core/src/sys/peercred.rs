//! The credentials of the process at the other end of a unix socket (SO_PEERCRED).

use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
use std::io;
use std::os::fd::BorrowedFd;

/// Who connected (or made the socketpair), as the kernel recorded it then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerCred {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}

/// getsockopt(SO_PEERCRED) of the connected unix socket `sock`.
pub fn peer_cred(sock: BorrowedFd) -> io::Result<PeerCred> {
    let c = getsockopt(&sock, PeerCredentials).map_err(io::Error::from)?;
    Ok(PeerCred {
        pid: c.pid(),
        uid: c.uid(),
        gid: c.gid(),
    })
}
