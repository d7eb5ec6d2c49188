//! The exec fifo: made by `create`, held open by the init, which blocks on it until `start`.

use crate::error::{Error, Result};
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::Path;

/// mkfifo(3) with `mode` (the umask still applies: the caller sets the mode after).
pub fn make(path: &Path, mode: u32) -> Result<()> {
    nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(mode))
        .map_err(|e| Error::os(format!("mkfifo {}", path.display()), e as i32))
}

/// Opens the fifo read-write (so the open does not wait for a writer), close-on-exec.
pub fn open_rdwr(path: &Path) -> Result<OwnedFd> {
    super::fd::open(path, libc::O_RDWR | libc::O_CLOEXEC)
        .map_err(|e| Error::io(format!("open {}", path.display()), e))
}

/// Blocks until a byte can be read from the fifo (`start` wrote it).
pub fn wait_byte(fifo: BorrowedFd<'_>) -> Result<()> {
    let mut b = [0u8; 1];
    loop {
        match super::fd::read(fifo, &mut b) {
            Ok(1) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Ok(_) => {
                return Err(crate::err!(
                    Internal,
                    "wait for start on exec.fifo: end of file"
                ))
            }
            Err(e) => return Err(Error::io("wait for start on exec.fifo", e)),
        }
    }
}
