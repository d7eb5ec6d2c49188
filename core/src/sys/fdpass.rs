//! Descriptors passed over unix sockets (SCM_RIGHTS), and descriptors a process inherited.

use crate::error::{Error, Result};
use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};
use std::io::IoSliceMut;
use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd, RawFd};

const MAX_FDS: usize = 8;

/// recvmsg(2) into `buf`, taking the descriptors that come with the bytes (close-on-exec).
pub fn recv_with_fds(
    sock: BorrowedFd<'_>,
    buf: &mut [u8],
) -> std::io::Result<(usize, Vec<OwnedFd>)> {
    use std::os::fd::AsRawFd;
    let mut cspace = nix::cmsg_space!([RawFd; MAX_FDS]);
    let mut iov = [IoSliceMut::new(buf)];
    let r = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut cspace),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )?;
    let mut fds = Vec::new();
    for c in r.cmsgs()? {
        if let ControlMessageOwned::ScmRights(raw) = c {
            // SAFETY: the kernel has just installed these descriptors in this process for
            // this message: nothing else owns them.
            fds.extend(raw.into_iter().map(|f| unsafe { OwnedFd::from_raw_fd(f) }));
        }
    }
    Ok((r.bytes, fds))
}

/// Takes ownership of the descriptor a `rune init` was started with (named by its number on
/// the command line), after checking that it is open; it becomes close-on-exec. Once per
/// process (a second call is an error), and not public: nothing else in the init opens or
/// adopts an inherited descriptor, so the returned value is its only owner.
pub(crate) fn adopt_inherited(fd: RawFd) -> Result<OwnedFd> {
    static ADOPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if ADOPTED.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return Err(crate::err!(Internal, "inherited fd {}: adopted twice", fd));
    }
    // SAFETY: F_GETFD only reads the descriptor's flags; a closed fd fails with EBADF.
    if fd < 3 || unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(Error::os(format!("inherited fd {}", fd), libc::EBADF));
    }
    // SAFETY: the descriptor is open, inherited, and adopted once (above): nothing else in
    // this process owns it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    nix::fcntl::fcntl(
        &owned,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    )
    .map_err(|e| Error::os(format!("make fd {} close-on-exec", fd), e as i32))?;
    Ok(owned)
}

/// A duplicate of `fd` numbered at `floor` or above, close-on-exec; `what` names it.
pub fn dup_above(fd: BorrowedFd<'_>, floor: RawFd, what: &str) -> Result<OwnedFd> {
    let raw = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(floor))
        .map_err(|e| Error::os(format!("dup {}", what), e as i32))?;
    // SAFETY: F_DUPFD_CLOEXEC returned a new descriptor that only this function holds.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Clears close-on-exec on `fd`, so the program executed next inherits it.
pub fn keep_on_exec(fd: BorrowedFd<'_>) -> Result<()> {
    nix::fcntl::fcntl(
        fd,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
    )
    .map(drop)
    .map_err(|e| Error::os("pass the init channel", e as i32))
}

/// Marks every fd from `floor` up close-on-exec (close_range with CLOSE_RANGE_CLOEXEC): only
/// stdio and the fds below `floor` reach the program executed next.
pub fn cloexec_from(floor: RawFd) {
    // SAFETY: close_range(floor, ~0, CLOSE_RANGE_CLOEXEC) only sets descriptor flags.
    unsafe { libc::syscall(libc::SYS_close_range, floor as u32, u32::MAX, 4u32) };
}

/// sendmsg(2) of the bytes of `iov` with `flags` (MSG_NOSIGNAL, ...), the descriptors `fds`
/// going with them (SCM_RIGHTS) unless there are none: how many bytes went.
pub fn send_with_fds(
    sock: BorrowedFd<'_>,
    iov: &[std::io::IoSlice<'_>],
    fds: &[RawFd],
    flags: libc::c_int,
) -> std::io::Result<usize> {
    use std::os::fd::AsRawFd;
    let cmsg = [ControlMessage::ScmRights(fds)];
    let cmsgs: &[ControlMessage] = if fds.is_empty() { &[] } else { &cmsg };
    sendmsg::<()>(
        sock.as_raw_fd(),
        iov,
        cmsgs,
        MsgFlags::from_bits_truncate(flags),
        None,
    )
    .map_err(std::io::Error::from)
}

#[cfg(test)]
mod tests {
    use std::os::fd::{AsRawFd, IntoRawFd};

    /// The inherited descriptor has one owner: a second adoption in the process is refused
    /// (this is the only test of this process that adopts).
    #[test]
    fn an_inherited_descriptor_is_adopted_once() {
        let a = std::fs::File::open("/dev/null").unwrap().into_raw_fd();
        let b = std::fs::File::open("/dev/null").unwrap();
        let owned = super::adopt_inherited(a).unwrap();
        assert_eq!(owned.as_raw_fd(), a);
        let e = super::adopt_inherited(b.as_raw_fd()).unwrap_err();
        assert!(e.message().contains("adopted twice"), "{e}");
    }
}
