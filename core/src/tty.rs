//! Terminals: the init opens a pty inside the container; the host passes the master to the
//! `--console-socket` (as runc does: SCM_RIGHTS, with the pty name as the payload) or, for a
//! foreground `run -t`/`exec -t`, copies between it and its own stdio.

use crate::err;
use crate::error::{Context, Error, Result};
use crate::sys::tty as sys;
use std::io::IoSlice;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::Path;

/// Opens a new pty in this process's /dev: (master, slave).
pub fn new_pty() -> Result<(OwnedFd, OwnedFd)> {
    new_pty_at("/dev/ptmx")
}

/// Opens a new pty through the given ptmx (a devpts instance's `ptmx`): (master, slave).
pub fn new_pty_at(ptmx: &str) -> Result<(OwnedFd, OwnedFd)> {
    let master = crate::sys::fd::open(
        Path::new(ptmx),
        libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
    )
    .with_context(|| format!("open {}", ptmx))?;
    sys::unlock_pty(master.as_fd()).context("unlock pty")?;
    let slave = sys::open_pty_peer(master.as_fd(), libc::O_RDWR | libc::O_NOCTTY)
        .context("open pty slave")?;
    Ok((master, slave))
}

/// Inside the container: opens a pty, makes its slave the controlling terminal and stdio of this
/// process, and returns the master.
/// The process's `uid` gets the slave, as runc gives the process its terminal; its group stays
/// the one devpts gave it (the `gid=5` of the usual devpts mount: the tty group).
pub fn open_pty(size: Option<(u16, u16)>, uid: u32) -> Result<OwnedFd> {
    let (master, slave) = new_pty()?;
    // gid -1: unchanged.
    crate::sys::fchown(slave.as_raw_fd(), uid, u32::MAX)
        .map_err(|e| Error::io(format!("chown the console to uid {}", uid), e))?;
    if let Some((rows, cols)) = size {
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let _ = sys::set_winsize(slave.as_raw_fd(), &ws);
    }
    crate::sys::session::setsid().context("setsid")?;
    sys::set_controlling_terminal(slave.as_fd()).context("set controlling terminal")?;
    crate::sys::fd::dup_onto_stdio(slave.as_fd()).context("dup pty slave")?;
    Ok(master)
}

/// Sends the pty master to a unix socket, as runc's `--console-socket` does.
pub fn send_to_socket(socket: &Path, master: RawFd) -> Result<()> {
    let sock = crate::sys::socket::connect_unix(socket, "console socket")?;
    let name = b"/dev/ptmx";
    let iov = [IoSlice::new(name)];
    crate::sys::fdpass::send_with_fds(sock.as_fd(), &iov, &[master], libc::MSG_NOSIGNAL)
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
        let saved = sys::termios(fd).ok()?;
        let mut t = saved;
        sys::make_raw(&mut t);
        t.c_oflag |= libc::OPOST;
        let _ = sys::set_termios(fd, &t);
        Some(RawMode { fd, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = sys::set_termios(self.fd, &self.saved);
    }
}

/// Copies the window size of `from` (our terminal) to `to` (the pty master).
pub fn copy_winsize(from: RawFd, to: RawFd) {
    if let Ok(ws) = sys::winsize(from) {
        let _ = sys::set_winsize(to, &ws);
    }
}
