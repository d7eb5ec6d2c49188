//! A typed channel over a unix stream socket: length-prefixed JSON frames, each optionally
//! carrying file descriptors with SCM_RIGHTS.

use crate::err;
use crate::error::{Error, Result};
use nix::sys::socket::{
    recvmsg, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags,
    SockFlag, SockType,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};

const MAX_FRAME: usize = 64 << 20;
const MAX_FDS: usize = 8;

#[derive(Debug)]
pub struct Channel {
    pub(crate) fd: OwnedFd,
}

/// Two connected ends, both close-on-exec.
pub fn pair() -> Result<(Channel, Channel)> {
    let (a, b) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| Error::os("socketpair", e as i32))?;
    Ok((Channel { fd: a }, Channel { fd: b }))
}

impl Channel {
    pub fn from_fd(fd: OwnedFd) -> Self {
        Channel { fd }
    }

    /// # Safety
    /// `fd` must be an open socket owned by nobody else.
    pub unsafe fn from_raw(fd: RawFd) -> Self {
        Channel {
            fd: OwnedFd::from_raw_fd(fd),
        }
    }

    /// A second handle on the same socket (for a reader thread).
    pub fn try_clone(&self) -> Result<Channel> {
        let fd = self
            .fd
            .try_clone()
            .map_err(|e| Error::io("dup channel", e))?;
        Ok(Channel { fd })
    }

    /// Shuts the socket down both ways, waking a reader blocked on another handle.
    pub fn shutdown(&self) {
        let _ = nix::sys::socket::shutdown(self.fd.as_raw_fd(), nix::sys::socket::Shutdown::Both);
    }

    pub fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    pub fn send<T: Serialize>(&self, msg: &T) -> Result<()> {
        self.send_with_fds(msg, &[])
    }

    pub fn send_with_fds<T: Serialize>(&self, msg: &T, fds: &[RawFd]) -> Result<()> {
        let body = serde_json::to_vec(msg).map_err(|e| err!(Internal, "encode message: {}", e))?;
        let len = (body.len() as u32).to_le_bytes();
        let mut sent = 0usize;
        let total = 4 + body.len();
        while sent < total {
            let (a, b): (&[u8], &[u8]) = if sent < 4 {
                (&len[sent..], &body[..])
            } else {
                (&[], &body[sent - 4..])
            };
            let iov = [IoSlice::new(a), IoSlice::new(b)];
            let cmsg = [ControlMessage::ScmRights(fds)];
            let cmsgs: &[ControlMessage] = if sent == 0 && !fds.is_empty() {
                &cmsg
            } else {
                &[]
            };
            match sendmsg::<()>(
                self.fd.as_raw_fd(),
                &iov,
                cmsgs,
                MsgFlags::MSG_NOSIGNAL,
                None,
            ) {
                Ok(n) => sent += n,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(Error::os("send to rune init channel", e as i32)),
            }
        }
        Ok(())
    }

    /// Receives one frame; `Ok(None)` when the other end closed before a frame began.
    pub fn recv<T: DeserializeOwned>(&self) -> Result<Option<(T, Vec<OwnedFd>)>> {
        let mut header = [0u8; 4];
        let mut fds = Vec::new();
        let mut got = 0;
        while got < 4 {
            let mut cspace = nix::cmsg_space!([RawFd; MAX_FDS]);
            let mut iov = [IoSliceMut::new(&mut header[got..])];
            let r = recvmsg::<()>(
                self.fd.as_raw_fd(),
                &mut iov,
                Some(&mut cspace),
                MsgFlags::MSG_CMSG_CLOEXEC,
            );
            let r = match r {
                Ok(r) => r,
                Err(nix::errno::Errno::EINTR) => continue,
                // A peer that died with data of ours unread resets the connection: between
                // frames that is its end, as EOF is (an init the OOM killer took, say).
                Err(nix::errno::Errno::ECONNRESET) if got == 0 => return Ok(None),
                Err(e) => return Err(Error::os("receive from rune init channel", e as i32)),
            };
            for c in r
                .cmsgs()
                .map_err(|e| Error::os("control message", e as i32))?
            {
                if let ControlMessageOwned::ScmRights(raw) = c {
                    // SAFETY: the kernel just installed these descriptors for us.
                    fds.extend(raw.into_iter().map(|f| unsafe { OwnedFd::from_raw_fd(f) }));
                }
            }
            if r.bytes == 0 {
                if got == 0 {
                    return Ok(None);
                }
                return Err(err!(Internal, "rune init channel closed mid-frame"));
            }
            got += r.bytes;
        }
        let len = u32::from_le_bytes(header) as usize;
        if len > MAX_FRAME {
            return Err(err!(Internal, "rune init channel: frame of {} bytes", len));
        }
        let mut body = vec![0u8; len];
        read_exact(self.fd.as_fd(), &mut body)?;
        let msg =
            serde_json::from_slice(&body).map_err(|e| err!(Internal, "decode message: {}", e))?;
        Ok(Some((msg, fds)))
    }
}

fn read_exact(fd: std::os::fd::BorrowedFd<'_>, mut buf: &mut [u8]) -> Result<()> {
    while !buf.is_empty() {
        match nix::unistd::read(fd, buf) {
            Ok(0) => return Err(err!(Internal, "rune init channel closed mid-frame")),
            Ok(n) => buf = &mut buf[n..],
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(Error::os("read rune init channel", e as i32)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::message::Msg;

    #[test]
    fn a_peer_gone_with_our_data_unread_is_the_end() {
        let (a, b) = pair().unwrap();
        a.send(&Msg::Pid { pid: 1 }).unwrap();
        // b dies without reading: a's next receive sees a reset, taken as EOF.
        drop(b);
        assert!(a.recv::<Msg>().unwrap().is_none());
    }

    #[test]
    fn frames_and_fds_cross() {
        let (a, b) = pair().unwrap();
        let (r, w) = nix::unistd::pipe().unwrap();
        a.send_with_fds(&Msg::Pid { pid: 42 }, &[w.as_raw_fd()])
            .unwrap();
        a.send(&Msg::Ready { pal_version: 0 }).unwrap();
        let (m, fds) = b.recv::<Msg>().unwrap().unwrap();
        assert!(matches!(m, Msg::Pid { pid: 42 }));
        assert_eq!(fds.len(), 1);
        nix::unistd::write(&fds[0], b"x").unwrap();
        let mut buf = [0u8; 1];
        nix::unistd::read(r.as_fd(), &mut buf).unwrap();
        assert_eq!(&buf, b"x");
        assert!(matches!(
            b.recv::<Msg>().unwrap().unwrap().0,
            Msg::Ready { .. }
        ));
        drop(a);
        assert!(b.recv::<Msg>().unwrap().is_none());
    }
}
