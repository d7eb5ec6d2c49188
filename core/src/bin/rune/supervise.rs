//! The foreground part of `run` and `exec`: forward signals to the process, copy between our
//! terminal and its pty, reap children, and report how the process ended.

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use rune_core::process::ExitStatus;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

/// Blocks every catchable signal so they queue for the signalfd. Call before creating the
/// process, so a SIGCHLD cannot be missed; rune init unblocks them for the container.
pub fn block_signals() -> SigSet {
    let mut set = SigSet::all();
    set.remove(Signal::SIGKILL);
    set.remove(Signal::SIGSTOP);
    set.remove(Signal::SIGSEGV);
    set.remove(Signal::SIGBUS);
    set.remove(Signal::SIGFPE);
    set.remove(Signal::SIGILL);
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None);
    set
}

/// Runs until `pid` ends; returns its exit status.
pub fn supervise(pid: i32, set: SigSet, console: Option<OwnedFd>) -> ExitStatus {
    let sfd = match SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK) {
        Ok(s) => s,
        Err(_) => return rune_core::process::wait_exit(pid).unwrap_or(ExitStatus::Exited(255)),
    };
    let _raw = console
        .as_ref()
        .and_then(|_| rune_core::tty::RawMode::enter(0));
    if let Some(m) = &console {
        rune_core::tty::copy_winsize(0, m.as_raw_fd());
    }
    let mut status = None;
    let mut master_open = console.is_some();
    let mut stdin_open = console.is_some();
    let mut buf = vec![0u8; 32 * 1024];
    let stdin = std::io::stdin();
    while status.is_none() || master_open {
        let mut fds = vec![PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
        if let Some(m) = &console {
            if master_open {
                fds.push(PollFd::new(m.as_fd(), PollFlags::POLLIN));
            }
            if stdin_open && status.is_none() {
                fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
            }
        }
        // Once the process is gone, drain the pty without blocking on it forever.
        let timeout = if status.is_some() {
            PollTimeout::from(100u16)
        } else {
            PollTimeout::NONE
        };
        match poll(&mut fds, timeout) {
            Err(_) => continue,
            Ok(0) => break,
            Ok(_) => {}
        }
        for p in &fds {
            // None: flags nix does not know, which are events too.
            if p.revents().is_some_and(|r| r.is_empty()) {
                continue;
            }
            let fd = p.as_fd().as_raw_fd();
            if fd == sfd.as_raw_fd() {
                while let Ok(Some(info)) = sfd.read_signal() {
                    let sig = info.ssi_signo as i32;
                    match sig {
                        libc::SIGCHLD => reap(pid, &mut status),
                        libc::SIGWINCH => {
                            if let Some(m) = &console {
                                rune_core::tty::copy_winsize(0, m.as_raw_fd());
                            }
                        }
                        _ => {
                            let _ = rune_core::sys::signal::kill(pid, sig);
                        }
                    }
                }
            } else if fd == 0 {
                match nix::unistd::read(std::io::stdin(), &mut buf) {
                    Ok(0) | Err(_) => stdin_open = false,
                    Ok(k) => {
                        if let Some(m) = &console {
                            let _ = write_all(m, &buf[..k]);
                        }
                    }
                }
            } else if let Some(m) = &console {
                match nix::unistd::read(m, &mut buf) {
                    Ok(0) | Err(_) => master_open = false,
                    Ok(k) => {
                        let _ = write_all(std::io::stdout().as_fd(), &buf[..k]);
                    }
                }
            }
        }
    }
    match status {
        Some(s) => s,
        None => rune_core::process::wait_exit(pid).unwrap_or(ExitStatus::Exited(255)),
    }
}

fn reap(pid: i32, status: &mut Option<ExitStatus>) {
    while let Ok(Some((r, st))) = rune_core::sys::process::waitpid(-1, libc::WNOHANG) {
        if r == pid {
            *status = Some(ExitStatus::from_raw(st));
        }
    }
}

fn write_all(fd: impl AsFd, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        match nix::unistd::write(&fd, data) {
            Ok(n) => data = &data[n..],
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
