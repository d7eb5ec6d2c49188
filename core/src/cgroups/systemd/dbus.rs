//! A small blocking D-Bus client: a unix socket, `AUTH EXTERNAL` with the caller's uid,
//! `Hello` on a bus (none peer-to-peer), method calls matched to their replies by serial, and
//! signals kept while a reply is awaited. It starts no thread and keeps no global state: one
//! connection is one value, used by one caller at a time (librune's hosts may be
//! multi-threaded Go programs, and rune's own create clones with only raw system calls).

use super::message::{Message, ERROR, METHOD_RETURN, PREFIX_LEN, SIGNAL};
use super::wire::Value;
use crate::err;
use crate::error::{Error, ErrorKind, Result};
use crate::sys::{poll, socket};
use std::collections::VecDeque;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

pub const DBUS_NAME: &str = "org.freedesktop.DBus";
pub const DBUS_PATH: &str = "/org/freedesktop/DBus";

/// An error reply: its D-Bus error name and its message.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteError {
    pub name: String,
    pub message: String,
}

impl RemoteError {
    /// The error as rune's, `what` naming the call.
    pub fn into_error(self, what: &str) -> Error {
        let kind = match self.name.as_str() {
            "org.freedesktop.DBus.Error.AccessDenied"
            | "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired" => {
                ErrorKind::PermissionDenied
            }
            "org.freedesktop.systemd1.NoSuchUnit" => ErrorKind::NotFound,
            _ => ErrorKind::Os,
        };
        Error::new(kind, format!("{}: {}: {}", what, self.name, self.message))
    }
}

/// One connection to a bus or a peer.
pub struct Connection {
    sock: OwnedFd,
    serial: u32,
    /// Bytes read past the last whole message.
    inbuf: Vec<u8>,
    /// Messages read while waiting for a reply (signals), oldest first.
    pending: VecDeque<Message>,
    /// False peer-to-peer (systemd's private socket): no bus daemon, no destinations.
    bus: bool,
    /// The unique name `Hello` gave (None peer-to-peer).
    unique_name: Option<String>,
    timeout: Duration,
}

impl Connection {
    /// Connects to the socket at `path` and authenticates; on a bus (`bus`), says `Hello`.
    /// `timeout` bounds each wait for the other side.
    pub fn connect(path: &Path, bus: bool, timeout: Duration) -> Result<Connection> {
        let sock = socket::connect_unix(path, "D-Bus socket")?;
        let mut c = Connection {
            sock,
            serial: 0,
            inbuf: Vec::new(),
            pending: VecDeque::new(),
            bus,
            unique_name: None,
            timeout,
        };
        c.auth()
            .map_err(|e| e.context(format!("D-Bus {}", path.display())))?;
        if bus {
            let name = c
                .call(Some(DBUS_NAME), DBUS_PATH, DBUS_NAME, "Hello", vec![])?
                .map_err(|e| e.into_error("D-Bus Hello"))?;
            c.unique_name = name.first().and_then(Value::as_str).map(str::to_string);
            if c.unique_name.is_none() {
                return Err(err!(Internal, "D-Bus Hello: no unique name in the reply"));
            }
        }
        Ok(c)
    }

    /// True on a bus (a daemon routes messages and needs match rules for signals).
    pub fn is_bus(&self) -> bool {
        self.bus
    }

    /// The unique name on the bus (None peer-to-peer).
    pub fn unique_name(&self) -> Option<&str> {
        self.unique_name.as_deref()
    }

    /// The nul byte, then `AUTH EXTERNAL <uid as hex-encoded decimal>`; `OK <guid>`; `BEGIN`.
    fn auth(&mut self) -> Result<()> {
        let uid = crate::sys::euid().to_string();
        let hex: String = uid.bytes().map(|b| format!("{:02x}", b)).collect();
        self.write_all(format!("\0AUTH EXTERNAL {}\r\n", hex).as_bytes())?;
        let deadline = Instant::now() + self.timeout;
        let line = self.read_line(deadline)?;
        if !line.starts_with("OK ") {
            return Err(err!(
                PermissionDenied,
                "authentication refused: the server said {:?}",
                line
            ));
        }
        self.write_all(b"BEGIN\r\n")
    }

    fn read_line(&mut self, deadline: Instant) -> Result<String> {
        loop {
            if let Some(i) = self.inbuf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.inbuf.drain(..i + 2).collect();
                return Ok(String::from_utf8_lossy(&line[..i]).into_owned());
            }
            if self.inbuf.len() > 16384 {
                return Err(err!(Internal, "D-Bus: authentication line too long"));
            }
            if !self.fill(deadline)? {
                return Err(err!(Os, "D-Bus: no answer to the authentication in time"));
            }
        }
    }

    fn write_all(&self, mut buf: &[u8]) -> Result<()> {
        while !buf.is_empty() {
            match socket::send(self.sock.as_fd(), buf) {
                Ok(n) => buf = &buf[n..],
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io("D-Bus: send", e)),
            }
        }
        Ok(())
    }

    /// Reads what is there into `inbuf`, waiting until `deadline`: false when the time ran out.
    fn fill(&mut self, deadline: Instant) -> Result<bool> {
        let left = deadline.saturating_duration_since(Instant::now());
        match poll::readable([self.sock.as_fd()], Some(left)) {
            Ok([true]) => {}
            Ok([false]) => return Ok(false),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Ok(true),
            Err(e) => return Err(Error::io("D-Bus: poll", e)),
        }
        let mut chunk = [0u8; 8192];
        match socket::recv(self.sock.as_fd(), &mut chunk) {
            Ok(0) => Err(err!(
                Os,
                "D-Bus: the connection was closed by the other side"
            )),
            Ok(n) => {
                self.inbuf.extend_from_slice(&chunk[..n]);
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(true),
            Err(e) => Err(Error::io("D-Bus: receive", e)),
        }
    }

    /// The next message from the socket, or None when `deadline` passed first.
    fn read_message(&mut self, deadline: Instant) -> Result<Option<Message>> {
        loop {
            if self.inbuf.len() >= PREFIX_LEN {
                let prefix: [u8; PREFIX_LEN] = self.inbuf[..PREFIX_LEN]
                    .try_into()
                    .map_err(|_| err!(Internal, "D-Bus: short prefix"))?;
                let total = Message::total_len(&prefix)?;
                if self.inbuf.len() >= total {
                    let bytes: Vec<u8> = self.inbuf.drain(..total).collect();
                    return Message::decode(&bytes).map(Some);
                }
            }
            if !self.fill(deadline)? {
                return Ok(None);
            }
        }
    }

    /// Sends `m` with the next serial, which it returns.
    pub fn send(&mut self, m: &Message) -> Result<u32> {
        self.serial = self.serial.wrapping_add(1).max(1);
        self.write_all(&m.encode(self.serial))?;
        Ok(self.serial)
    }

    /// Calls a method and waits for its reply: the reply's body, or the error reply. On a
    /// peer-to-peer connection the destination is left out.
    pub fn call(
        &mut self,
        destination: Option<&str>,
        path: &str,
        interface: &str,
        member: &str,
        body: Vec<Value>,
    ) -> Result<std::result::Result<Vec<Value>, RemoteError>> {
        let dest = destination.filter(|_| self.bus);
        let serial = self.send(&Message::call(dest, path, interface, member, body))?;
        let deadline = Instant::now() + self.timeout;
        loop {
            let m = self
                .read_message(deadline)?
                .ok_or_else(|| err!(Os, "D-Bus: no reply to {}.{} in time", interface, member))?;
            if m.reply_serial == Some(serial) && m.kind == METHOD_RETURN {
                return Ok(Ok(m.body));
            }
            if m.reply_serial == Some(serial) && m.kind == ERROR {
                return Ok(Err(RemoteError {
                    name: m.error_name.unwrap_or_default(),
                    message: m.body.first().and_then(Value::as_str).unwrap_or("").into(),
                }));
            }
            if m.kind == SIGNAL {
                self.pending.push_back(m);
            }
        }
    }

    /// Waits until `deadline` for a signal that `pick` accepts (those read while waiting for
    /// replies first); the others are dropped. None: the time ran out.
    pub fn wait_signal(
        &mut self,
        deadline: Instant,
        mut pick: impl FnMut(&Message) -> bool,
    ) -> Result<Option<Message>> {
        while let Some(m) = self.pending.pop_front() {
            if pick(&m) {
                return Ok(Some(m));
            }
        }
        while let Some(m) = self.read_message(deadline)? {
            if m.kind == SIGNAL && pick(&m) {
                return Ok(Some(m));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
#[path = "dbus_tests.rs"]
mod tests;
