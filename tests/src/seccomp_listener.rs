//! A seccomp agent for `linux.seccomp.listenerPath`: binds a unix socket,
//! accepts the runtime's one connection, receives the container process state
//! (JSON payload + fds via SCM_RIGHTS) and optionally answers the
//! `SCMP_ACT_NOTIFY` notifications that arrive on the seccomp fd.

use serde_json::Value;
use std::io::Error;
use std::os::unix::io::{AsRawFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// How the agent treats notifications on the received seccomp fd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyReply {
    /// Answer every notification with this errno (the syscall fails with it).
    Errno(i32),
    /// Close the fd at once: notified syscalls then fail with ENOSYS.
    Close,
    /// Let every notified syscall go on (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
    Continue,
    /// Answer every notification with this errno, but hold the first one: create `received` in
    /// [`SeccompListener::dir`], and answer once `continue` appears there.
    GatedErrno(i32),
}

/// One notification the agent answered.
#[derive(Debug, Clone, Copy)]
pub struct Notification {
    /// The (host) pid of the task that made the syscall.
    pub pid: u32,
    /// The syscall number.
    pub nr: i32,
}

/// What the listener received.
#[derive(Debug, Default)]
pub struct ListenerReport {
    /// A connection was accepted.
    pub connected: bool,
    /// Number of fds received with SCM_RIGHTS (over all messages).
    pub fds: usize,
    /// The payload as received (all messages concatenated).
    pub raw: String,
    /// The payload parsed as JSON (`Value::Null` if it is not JSON).
    pub state: Value,
    /// Notifications received (with [`NotifyReply::Errno`] and [`NotifyReply::GatedErrno`]).
    pub notifications: Vec<Notification>,
}

pub struct SeccompListener {
    _dir: TempDir,
    path: PathBuf,
    handle: Option<JoinHandle<Result<ListenerReport, String>>>,
}

const TIMEOUT: Duration = Duration::from_secs(20);

impl SeccompListener {
    /// Bind the socket and serve one connection in the background.
    pub fn new(reply: NotifyReply) -> SeccompListener {
        let dir = tempfile::Builder::new()
            .prefix("rune-seccomp-agent-")
            .tempdir()
            .expect("seccomp agent tempdir");
        let path = dir.path().join("agent.sock");
        let listener = UnixListener::bind(&path).expect("bind seccomp agent socket");
        let gate = dir.path().to_path_buf();
        let handle = std::thread::spawn(move || serve(listener, reply, gate));
        SeccompListener {
            _dir: dir,
            path,
            handle: Some(handle),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The agent's directory (its socket, and the files of [`NotifyReply::GatedErrno`]).
    pub fn dir(&self) -> &Path {
        self._dir.path()
    }

    /// Wait for the agent: returns once the connection was served and (with
    /// [`NotifyReply::Errno`]) the filter has no users left, or on timeout.
    #[track_caller]
    pub fn finish(mut self) -> ListenerReport {
        self.handle
            .take()
            .unwrap()
            .join()
            .expect("seccomp agent thread panicked")
            .unwrap_or_else(|e| panic!("seccomp agent: {e}"))
    }
}

fn serve(
    listener: UnixListener,
    reply: NotifyReply,
    gate: PathBuf,
) -> Result<ListenerReport, String> {
    let deadline = Instant::now() + TIMEOUT;
    let mut report = ListenerReport::default();
    if poll(listener.as_raw_fd(), deadline) == 0 {
        return Ok(report);
    }
    let (conn, _) = listener.accept().map_err(|e| format!("accept: {e}"))?;
    report.connected = true;
    // The payload may come in several messages: read until it is a complete
    // JSON document or the runtime closes the connection.
    let mut data = Vec::new();
    let mut fds = Vec::new();
    while poll(conn.as_raw_fd(), deadline) != 0 {
        let n = crate::fdpass::recv_with_fds(conn.as_raw_fd(), &mut data, &mut fds)?;
        if n == 0 || serde_json::from_slice::<Value>(&data).is_ok() {
            break;
        }
    }
    drop(conn);
    report.fds = fds.len();
    report.raw = String::from_utf8_lossy(&data).into_owned();
    report.state = serde_json::from_str(&report.raw).unwrap_or(Value::Null);
    let (errno, gate) = match reply {
        NotifyReply::Errno(e) => (Some(e), None),
        NotifyReply::GatedErrno(e) => (Some(e), Some(gate)),
        NotifyReply::Continue => (Some(0), None),
        NotifyReply::Close => (None, None),
    };
    if let (Some(errno), Some(&fd)) = (errno, fds.first()) {
        report.notifications = answer(fd, errno, gate, deadline);
    }
    for fd in fds {
        // SAFETY: fds received from the kernel, owned by this thread.
        unsafe { libc::close(fd) };
    }
    Ok(report)
}

/// Answer notifications on seccomp fd `fd` with `-errno` (0: continue the syscall) until no task uses the filter any
/// more (POLLHUP) or the deadline passes; with a `gate`, the first one is held (see
/// [`NotifyReply::GatedErrno`]).
fn answer(
    fd: RawFd,
    errno: i32,
    mut gate: Option<PathBuf>,
    deadline: Instant,
) -> Vec<Notification> {
    let mut seen = Vec::new();
    loop {
        let rev = poll(fd, deadline);
        if rev == 0 {
            return seen;
        }
        if rev & libc::POLLIN == 0 {
            return seen; // POLLHUP / POLLERR: the filter is gone.
        }
        // SAFETY: the kernel requires a zeroed struct for NOTIF_RECV.
        let mut req: libc::seccomp_notif = unsafe { std::mem::zeroed() };
        // SAFETY: ioctl with a properly sized out-struct.
        if unsafe { libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_RECV, &mut req) } != 0 {
            // ENOENT: the task died between poll and recv; try again.
            continue;
        }
        seen.push(Notification {
            pid: req.pid,
            nr: req.data.nr,
        });
        if let Some(dir) = gate.take() {
            let _ = std::fs::write(dir.join("received"), "");
            while !dir.join("continue").exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let mut resp = libc::seccomp_notif_resp {
            id: req.id,
            val: 0,
            error: -errno,
            // SECCOMP_USER_NOTIF_FLAG_CONTINUE
            flags: if errno == 0 { 1 } else { 0 },
        };
        // SAFETY: ioctl with a properly sized in/out struct.
        unsafe { libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_SEND, &mut resp) };
    }
}

/// Poll `fd` for input until the deadline; returns the revents (0 on timeout).
fn poll(fd: RawFd, deadline: Instant) -> libc::c_short {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return 0;
        }
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, left.as_millis().min(1000) as libc::c_int) };
        if r > 0 {
            return p.revents;
        }
        if r < 0 && Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return libc::POLLERR;
        }
    }
}
