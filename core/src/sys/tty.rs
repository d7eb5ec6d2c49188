//! Terminals: the pty ioctls (unlock, the peer), window sizes, termios and the controlling
//! terminal.

use super::at_result;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Unlocks the slave of the pty `master` (TIOCSPTLCK with 0, as unlockpt does).
pub fn unlock_pty(master: BorrowedFd) -> io::Result<()> {
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads the int the pointer names, alive for the call.
    at_result(unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) })
}

/// Opens the slave of the pty `master` with `flags` (TIOCGPTPEER): a new descriptor.
pub fn open_pty_peer(master: BorrowedFd, flags: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: TIOCGPTPEER takes the open flags as an integer and returns a new fd or -1.
    let fd = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTPEER, flags) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a new descriptor, owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Makes the terminal `fd` the controlling terminal of this process (TIOCSCTTY, no stealing).
pub fn set_controlling_terminal(fd: BorrowedFd) -> io::Result<()> {
    // SAFETY: TIOCSCTTY takes an integer argument (0: do not steal it from another session).
    at_result(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSCTTY, 0) })
}

/// The window size of the terminal `fd` (TIOCGWINSZ).
pub fn winsize(fd: RawFd) -> io::Result<libc::winsize> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes a winsize into the struct the pointer names, alive here.
    at_result(unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) })?;
    Ok(ws)
}

/// Sets the window size of the terminal `fd` (TIOCSWINSZ).
pub fn set_winsize(fd: RawFd, ws: &libc::winsize) -> io::Result<()> {
    // SAFETY: TIOCSWINSZ reads the winsize the reference names.
    at_result(unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, ws) })
}

/// The attributes of the terminal `fd` (tcgetattr).
pub fn termios(fd: RawFd) -> io::Result<libc::termios> {
    // SAFETY: termios is plain data; zero is a valid value of it, overwritten by tcgetattr.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: tcgetattr writes into the struct the pointer names, alive here.
    at_result(unsafe { libc::tcgetattr(fd, &mut t) })?;
    Ok(t)
}

/// Turns `t` into raw-mode attributes (cfmakeraw).
pub fn make_raw(t: &mut libc::termios) {
    // SAFETY: cfmakeraw only edits the struct the reference names.
    unsafe { libc::cfmakeraw(t) };
}

/// Sets the attributes of the terminal `fd` now (tcsetattr TCSANOW).
pub fn set_termios(fd: RawFd, t: &libc::termios) -> io::Result<()> {
    // SAFETY: tcsetattr reads the struct the reference names.
    at_result(unsafe { libc::tcsetattr(fd, libc::TCSANOW, t) })
}
