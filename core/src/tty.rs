//! Terminals: the init opens a pty inside the container; the host passes the master to the
//! `--console-socket` (as runc does: SCM_RIGHTS, with the pty name as the payload) or, for a
//! foreground `run -t`/`exec -t`, copies between it and its own stdio.

use crate::err;
use crate::error::{Context, Error, Result};
use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, UnixAddr};
use std::io::IoSlice;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

/// Opens a new pty in this process's /dev: (master, slave).
pub fn new_pty() -> Result<(OwnedFd, OwnedFd)> {
    new_pty_at("/dev/ptmx")
}

/// Opens a new pty through the given ptmx (a devpts instance's `ptmx`): (master, slave).
pub fn new_pty_at(ptmx: &str) -> Result<(OwnedFd, OwnedFd)> {
    let master = nix::fcntl::open(
        ptmx,
        nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_NOCTTY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .with_context(|| format!("open {}", ptmx))?;
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK takes a pointer to an int.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) } != 0 {
        return Err(Error::io("unlock pty", std::io::Error::last_os_error()));
    }
    // SAFETY: TIOCGPTPEER returns a new fd for the slave.
    let slave = unsafe {
        libc::ioctl(
            master.as_raw_fd(),
            libc::TIOCGPTPEER,
            libc::O_RDWR | libc::O_NOCTTY,
        )
    };
    if slave < 0 {
        return Err(Error::io("open pty slave", std::io::Error::last_os_error()));
    }
    // SAFETY: a new descriptor owned by us.
    let slave = unsafe { OwnedFd::from_raw_fd(slave) };
    Ok((master, slave))
}

/// Inside the container: opens a pty, makes its slave the controlling terminal and stdio of this
/// process, and returns the master.
/// `owner` (uid, gid) gets the slave, as runc gives the process its terminal.
pub fn open_pty(size: Option<(u16, u16)>, owner: (u32, u32)) -> Result<OwnedFd> {
    let (master, slave) = new_pty()?;
    crate::sys::fchown(slave.as_raw_fd(), owner.0, owner.1)
        .map_err(|e| Error::io(format!("chown the console to {}:{}", owner.0, owner.1), e))?;
    if let Some((rows, cols)) = size {
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ with a valid winsize.
        unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    }
    nix::unistd::setsid().context("setsid")?;
    // SAFETY: TIOCSCTTY with argument 0.
    if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) } != 0 {
        return Err(Error::io(
            "set controlling terminal",
            std::io::Error::last_os_error(),
        ));
    }
    for fd in 0..3 {
        // SAFETY: dup2 onto the stdio numbers.
        if unsafe { libc::dup2(slave.as_raw_fd(), fd) } < 0 {
            return Err(Error::io("dup pty slave", std::io::Error::last_os_error()));
        }
    }
    Ok(master)
}

/// Sends the pty master to a unix socket, as runc's `--console-socket` does.
pub fn send_to_socket(socket: &Path, master: RawFd) -> Result<()> {
    let sock = nix::sys::socket::socket(
        nix::sys::socket::AddressFamily::Unix,
        nix::sys::socket::SockType::Stream,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
        None,
    )
    .context("create console socket")?;
    let addr = UnixAddr::new(socket)
        .map_err(|e| Error::os(format!("console socket {}", socket.display()), e as i32))?;
    nix::sys::socket::connect(sock.as_raw_fd(), &addr)
        .with_context(|| format!("connect to console socket {}", socket.display()))?;
    let name = b"/dev/ptmx";
    let iov = [IoSlice::new(name)];
    let fds = [master];
    sendmsg::<()>(
        sock.as_raw_fd(),
        &iov,
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .with_context(|| format!("send the console to {}", socket.display()))?;
    Ok(())
}

/// Checks that the console socket exists and is a socket before anything is created.
pub fn check_socket(socket: &Path) -> Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let m = std::fs::metadata(socket).map_err(|e| {
        err!(
            NotFound,
            "console socket {}: {}",
            socket.display(),
            crate::error::io_desc(&e)
        )
    })?;
    if !m.file_type().is_socket() {
        return Err(err!(
            InvalidArgument,
            "console socket {} is not a socket",
            socket.display()
        ));
    }
    Ok(())
}

/// Puts the terminal on `fd` in raw mode; the returned guard restores it.
pub struct RawMode {
    fd: RawFd,
    saved: libc::termios,
}

impl RawMode {
    pub fn enter(fd: RawFd) -> Option<RawMode> {
        // SAFETY: zeroed termios is a valid out-parameter.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: tcgetattr on an fd with a valid pointer.
        if unsafe { libc::tcgetattr(fd, &mut t) } != 0 {
            return None;
        }
        let saved = t;
        // SAFETY: cfmakeraw edits the struct in place.
        unsafe { libc::cfmakeraw(&mut t) };
        t.c_oflag |= libc::OPOST;
        // SAFETY: valid fd and termios.
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &t) };
        Some(RawMode { fd, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: restores the saved attributes.
        unsafe { libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved) };
    }
}

/// Copies the window size of `from` (our terminal) to `to` (the pty master).
pub fn copy_winsize(from: RawFd, to: RawFd) {
    // SAFETY: zeroed winsize; ioctls with a valid pointer.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(from, libc::TIOCGWINSZ, &mut ws) == 0 {
            libc::ioctl(to, libc::TIOCSWINSZ, &ws);
        }
    }
}
