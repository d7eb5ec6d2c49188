//! The foreground part of `run` and `exec`: forward signals to the process, copy between our
//! terminal and its pty, reap children, and report how the process ended.

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use rune_core::process::ExitStatus;
use std::os::fd::{AsRawFd, OwnedFd};

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
    while status.is_none() || master_open {
        let mut fds = vec![libc::pollfd {
            fd: sfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        if let Some(m) = &console {
            if master_open {
                fds.push(libc::pollfd {
                    fd: m.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                });
            }
            if stdin_open && status.is_none() {
                fds.push(libc::pollfd {
                    fd: 0,
                    events: libc::POLLIN,
                    revents: 0,
                });
            }
        }
        // Once the process is gone, drain the pty without blocking on it forever.
        let timeout = if status.is_some() { 100 } else { -1 };
        // SAFETY: a valid array of pollfds.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
        if n < 0 {
            continue;
        }
        if n == 0 {
            break;
        }
        for p in &fds {
            if p.revents == 0 {
                continue;
            }
            if p.fd == sfd.as_raw_fd() {
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
                            // SAFETY: forwarding a signal to our child.
                            unsafe { libc::kill(pid, sig) };
                        }
                    }
                }
            } else if p.fd == 0 {
                match nix::unistd::read(std::io::stdin(), &mut buf) {
                    Ok(0) | Err(_) => stdin_open = false,
                    Ok(k) => {
                        if let Some(m) = &console {
                            let _ = write_all(m.as_raw_fd(), &buf[..k]);
                        }
                    }
                }
            } else if let Some(m) = &console {
                match nix::unistd::read(m, &mut buf) {
                    Ok(0) | Err(_) => master_open = false,
                    Ok(k) => {
                        let _ = write_all(1, &buf[..k]);
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
    loop {
        let mut st = 0;
        // SAFETY: waitpid for any child, non-blocking.
        let r = unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG) };
        if r <= 0 {
            return;
        }
        if r == pid {
            *status = Some(ExitStatus::from_raw(st));
        }
    }
}

fn write_all(fd: i32, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        // SAFETY: write from a valid buffer.
        let n = unsafe { libc::write(fd, data.as_ptr() as *const libc::c_void, data.len()) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(e);
        }
        data = &data[n as usize..];
    }
    Ok(())
}
