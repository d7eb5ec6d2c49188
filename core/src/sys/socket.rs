//! Sockets: unix stream pairs and connections, shutting one down, and a netlink route socket
//! with its plain send and receive.

use crate::error::{Context, Error, Result};
use nix::sys::socket::{self, AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

/// socketpair(AF_UNIX, SOCK_STREAM): two connected ends, both close-on-exec.
pub fn unix_stream_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    socket::socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(io::Error::from)
}

/// shutdown(2) both ways: a reader blocked on another descriptor of the socket wakes.
pub fn shutdown(sock: BorrowedFd<'_>) -> io::Result<()> {
    socket::shutdown(sock.as_raw_fd(), socket::Shutdown::Both).map_err(io::Error::from)
}

/// A unix stream socket (close-on-exec) connected to the socket at `path`. `what` names it in
/// the errors: "create {what}", "{what} {path}" (no socket address: too long, say) and
/// "connect to {what} {path}".
pub fn connect_unix(path: &Path, what: &str) -> Result<OwnedFd> {
    let sock = socket::socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .with_context(|| format!("create {}", what))?;
    let addr = socket::UnixAddr::new(path)
        .map_err(|e| Error::os(format!("{} {}", what, path.display()), e as i32))?;
    socket::connect(sock.as_raw_fd(), &addr)
        .with_context(|| format!("connect to {} {}", what, path.display()))?;
    Ok(sock)
}

/// A raw netlink socket of the route family (NETLINK_ROUTE), close-on-exec.
pub fn netlink_route() -> io::Result<OwnedFd> {
    socket::socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkRoute,
    )
    .map_err(io::Error::from)
}

/// One send(2) of `buf` on `sock` with MSG_NOSIGNAL (a peer that has gone is EPIPE, never a
/// SIGPIPE that would kill a librune host which keeps the default disposition): how many bytes
/// went.
pub fn send(sock: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    socket::send(sock.as_raw_fd(), buf, MsgFlags::MSG_NOSIGNAL).map_err(io::Error::from)
}

/// One recv(2) on `sock` into `buf`, no flags: how many bytes came.
pub fn recv(sock: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    socket::recv(sock.as_raw_fd(), buf, MsgFlags::empty()).map_err(io::Error::from)
}
