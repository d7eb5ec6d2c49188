//! A `--console-socket` receiver: binds a unix socket, accepts one connection,
//! receives the pty master fd via SCM_RIGHTS and reads everything the
//! container writes to its terminal.

use std::fs::File;
use std::io::Read;
use std::os::unix::io::{AsRawFd, FromRawFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// What the console socket received.
#[derive(Debug, Default)]
pub struct ConsoleCapture {
    /// A master fd arrived.
    pub got_master: bool,
    /// Everything read from the master until EOF/EIO (or the timeout).
    pub output: String,
}

pub struct ConsoleSocket {
    _dir: TempDir,
    path: PathBuf,
    handle: Option<JoinHandle<Result<ConsoleCapture, String>>>,
}

impl ConsoleSocket {
    /// Bind the socket and start receiving in the background. `input` is
    /// written to the master right after it arrives.
    pub fn new(input: &[u8]) -> ConsoleSocket {
        let dir = tempfile::Builder::new()
            .prefix("rune-console-")
            .tempdir()
            .expect("console tempdir");
        let path = dir.path().join("console.sock");
        let listener = UnixListener::bind(&path).expect("bind console socket");
        let input = input.to_vec();
        let handle = std::thread::spawn(move || receive(listener, &input));
        ConsoleSocket {
            _dir: dir,
            path,
            handle: Some(handle),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Wait for the receiver: the master fd and all output read from it.
    #[track_caller]
    pub fn finish(mut self) -> ConsoleCapture {
        self.handle
            .take()
            .unwrap()
            .join()
            .expect("console thread panicked")
            .unwrap_or_else(|e| panic!("console socket: {e}"))
    }
}

const TIMEOUT: Duration = Duration::from_secs(20);

fn receive(listener: UnixListener, input: &[u8]) -> Result<ConsoleCapture, String> {
    let deadline = Instant::now() + TIMEOUT;
    let lfd = listener.as_raw_fd();
    if !poll_in(lfd, deadline) {
        return Ok(ConsoleCapture::default());
    }
    let (conn, _) = listener.accept().map_err(|e| format!("accept: {e}"))?;
    if !poll_in(conn.as_raw_fd(), deadline) {
        return Err("no message on the console socket".into());
    }
    let fd = recv_fd(conn.as_raw_fd())?;
    // SAFETY: recv_fd returned a fresh fd that we now own.
    let mut master = unsafe { File::from_raw_fd(fd) };
    if !input.is_empty() {
        use std::io::Write;
        master
            .write_all(input)
            .map_err(|e| format!("write to master: {e}"))?;
    }
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while poll_in(fd, deadline) {
        match master.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            // EIO: the last slave fd closed (the container process exited).
            Err(e) if e.raw_os_error() == Some(libc::EIO) => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("read master: {e}")),
        }
    }
    Ok(ConsoleCapture {
        got_master: true,
        output: String::from_utf8_lossy(&out).into_owned(),
    })
}

/// Wait until `fd` is readable (or hung up); false on timeout.
fn poll_in(fd: RawFd, deadline: Instant) -> bool {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, left.as_millis().min(1000) as libc::c_int) };
        if r > 0 {
            return true;
        }
        if r < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return false;
        }
    }
}

/// Receive one fd passed with SCM_RIGHTS on a connected unix socket.
fn recv_fd(sock: RawFd) -> Result<RawFd, String> {
    let (mut data, mut fds) = (Vec::new(), Vec::new());
    let n = crate::fdpass::recv_with_fds(sock, &mut data, &mut fds)?;
    fds.first()
        .copied()
        .ok_or_else(|| format!("no SCM_RIGHTS fd in the message ({n} bytes of data)"))
}
