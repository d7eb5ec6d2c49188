//! A typed channel over a unix stream socket: length-prefixed JSON frames, each optionally
//! carrying file descriptors with SCM_RIGHTS.

use crate::err;
use crate::error::{Error, Result};
use crate::sys::fdpass::{recv_with_fds, send_with_fds};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io::{ErrorKind, IoSlice};
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

const MAX_FRAME: usize = 64 << 20;

#[derive(Debug)]
pub struct Channel {
    pub(crate) fd: OwnedFd,
}

/// Two connected ends, both close-on-exec.
pub fn pair() -> Result<(Channel, Channel)> {
    let (a, b) = crate::sys::socket::unix_stream_pair().map_err(|e| Error::io("socketpair", e))?;
    Ok((Channel { fd: a }, Channel { fd: b }))
}

impl Channel {
    pub fn from_fd(fd: OwnedFd) -> Self {
        Channel { fd }
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
        let _ = crate::sys::socket::shutdown(self.fd.as_fd());
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
            let with = if sent == 0 { fds } else { &[] };
            match send_with_fds(self.fd.as_fd(), &iov, with, libc::MSG_NOSIGNAL) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("send to rune init channel", e)),
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
            let (n, more) = match recv_with_fds(self.fd.as_fd(), &mut header[got..]) {
                Ok(r) => r,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                // A peer that died with data of ours unread resets the connection: between
                // frames that is its end, as EOF is (an init the OOM killer took, say).
                Err(e) if e.kind() == ErrorKind::ConnectionReset && got == 0 => return Ok(None),
                Err(e) => return Err(Error::io("receive from rune init channel", e)),
            };
            fds.extend(more);
            if n == 0 {
                if got == 0 {
                    return Ok(None);
                }
                return Err(err!(Internal, "rune init channel closed mid-frame"));
            }
            got += n;
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

/// One end of a channel whose directions carry different message types: it sends `Out` and
/// receives `In`, so a message cannot be sent the wrong way.
#[derive(Debug)]
pub struct End<Out, In> {
    ch: Channel,
    _types: PhantomData<fn(Out) -> In>,
}

impl<Out: Serialize, In: DeserializeOwned> End<Out, In> {
    pub fn new(ch: Channel) -> Self {
        End {
            ch,
            _types: PhantomData,
        }
    }

    pub fn send(&self, msg: &Out) -> Result<()> {
        self.ch.send(msg)
    }

    pub fn send_with_fds(&self, msg: &Out, fds: &[RawFd]) -> Result<()> {
        self.ch.send_with_fds(msg, fds)
    }

    pub fn recv(&self) -> Result<Option<(In, Vec<OwnedFd>)>> {
        self.ch.recv()
    }

    /// A second handle on the same socket (for a reader thread).
    pub fn try_clone(&self) -> Result<Self> {
        Ok(End::new(self.ch.try_clone()?))
    }

    pub fn channel(&self) -> &Channel {
        &self.ch
    }

    /// The socket, to hand on (to another process).
    pub fn into_fd(self) -> OwnedFd {
        self.ch.fd
    }
}

fn read_exact(fd: std::os::fd::BorrowedFd<'_>, mut buf: &mut [u8]) -> Result<()> {
    while !buf.is_empty() {
        match crate::sys::fd::read(fd, buf) {
            Ok(0) => return Err(err!(Internal, "rune init channel closed mid-frame")),
            Ok(n) => buf = &mut buf[n..],
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io("read rune init channel", e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::message::{FromInit, ToInit};
    use std::io::{Read, Write};

    type Host = End<ToInit, FromInit>;
    type Init = End<FromInit, ToInit>;

    fn ends() -> (Host, Init) {
        let (a, b) = pair().unwrap();
        (End::new(a), End::new(b))
    }

    #[test]
    fn a_peer_gone_with_our_data_unread_is_the_end() {
        let (host, init) = ends();
        host.send(&ToInit::MapsDone).unwrap();
        // The init dies without reading: the host's next receive sees a reset, taken as EOF.
        drop(init);
        assert!(host.recv().unwrap().is_none());
    }

    #[test]
    fn frames_and_fds_cross() {
        let (host, init) = ends();
        let (mut r, w) = std::io::pipe().unwrap();
        init.send_with_fds(&FromInit::Pid { pid: 42 }, &[w.as_raw_fd()])
            .unwrap();
        init.send(&FromInit::Ready { pal_version: 0 }).unwrap();
        let (m, mut fds) = host.recv().unwrap().unwrap();
        assert!(matches!(m, FromInit::Pid { pid: 42 }));
        assert_eq!(fds.len(), 1);
        std::fs::File::from(fds.remove(0)).write_all(b"x").unwrap();
        let mut buf = [0u8; 1];
        r.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"x");
        assert!(matches!(
            host.recv().unwrap().unwrap().0,
            FromInit::Ready { .. }
        ));
        drop(init);
        assert!(host.recv().unwrap().is_none());
    }

    #[test]
    fn a_frame_of_the_other_direction_does_not_decode() {
        let (a, b) = pair().unwrap();
        // A host → init message read where init → host messages are expected.
        a.send(&ToInit::MapsDone).unwrap();
        assert!(End::<ToInit, FromInit>::new(b).recv().is_err());
    }
}
