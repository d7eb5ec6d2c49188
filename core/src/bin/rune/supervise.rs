//! The foreground part of `run` and `exec`: forward signals to the process, copy between our
//! terminal and its pty, reap children, and report how the process ended.

use rune_core::process::ExitStatus;
use rune_core::sys;
use rune_core::sys::poll::{poll, PollFd};
use rune_core::sys::signalfd::{SignalFd, SignalSet};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

/// Blocks every catchable signal so they queue for the signalfd. Call before creating the
/// process, so a SIGCHLD cannot be missed; rune init unblocks them for the container.
pub fn block_signals() -> SignalSet {
    let set = SignalSet::all_but(&[
        libc::SIGKILL,
        libc::SIGSTOP,
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGFPE,
        libc::SIGILL,
    ]);
    let _ = set.block();
    set
}

/// Runs until `pid` ends; returns its exit status.
pub fn supervise(pid: i32, set: SignalSet, console: Option<OwnedFd>) -> ExitStatus {
    let sfd = match SignalFd::new(&set) {
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
        let mut fds = vec![PollFd::new(sfd.as_fd(), libc::POLLIN)];
        if let Some(m) = &console {
            if master_open {
                fds.push(PollFd::new(m.as_fd(), libc::POLLIN));
            }
            if stdin_open && status.is_none() {
                fds.push(PollFd::new(stdin.as_fd(), libc::POLLIN));
            }
        }
        // Once the process is gone, drain the pty without blocking on it forever.
        let timeout = status.is_some().then(|| Duration::from_millis(100));
        match poll(&mut fds, timeout) {
            Err(_) => continue,
            Ok(0) => break,
            Ok(_) => {}
        }
        for p in &fds {
            if p.revents() == 0 {
                continue;
            }
            let fd = p.fd();
            if fd == sfd.as_fd().as_raw_fd() {
                while let Some(sig) = sfd.next() {
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
                match sys::fd::read(stdin.as_fd(), &mut buf) {
                    Ok(0) | Err(_) => stdin_open = false,
                    Ok(k) => {
                        if let Some(m) = &console {
                            let _ = write_all(m, &buf[..k]);
                        }
                    }
                }
            } else if let Some(m) = &console {
                match sys::fd::read(m.as_fd(), &mut buf) {
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
        match sys::fd::write(fd.as_fd(), data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
