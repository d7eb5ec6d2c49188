//! Container inits created through librune are children of the host process: they must be
//! reaped by it, exactly once. A context keeps one [`Child`] per such init so that
//! `rune_container_wait` (blocking), `rune_container_wait_timeout` (up to a deadline),
//! `rune_container_delete` and `rune_container_free` (non-blocking) share one `waitpid` and the
//! exit code it returned.

use crate::error::{Error, Result};
use crate::handle;
use rune_core::process::ExitStatus;
use std::collections::HashMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The init processes this context created and has not reaped yet, by pid.
#[derive(Default)]
pub(crate) struct Children {
    map: Mutex<HashMap<i32, Arc<Child>>>,
}

/// One child process and where its reaping stands.
pub(crate) struct Child {
    pub pid: i32,
    state: Mutex<Reap>,
    done: Condvar,
}

#[derive(Clone)]
enum Reap {
    /// Nobody is waiting.
    Pending,
    /// A thread is in waitpid for it.
    Reaping,
    /// Reaped: the shell-style exit code (128+N for signal N).
    Exited(i32),
    /// waitpid failed (someone else reaped it, or SIGCHLD is ignored).
    Lost(Error),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Children {
    pub fn add(&self, pid: i32) -> Arc<Child> {
        let c = Arc::new(Child {
            pid,
            state: Mutex::new(Reap::Pending),
            done: Condvar::new(),
        });
        lock(&self.map).insert(pid, c.clone());
        c
    }

    pub fn get(&self, pid: i32) -> Option<Arc<Child>> {
        lock(&self.map).get(&pid).cloned()
    }

    /// Waits for `child` until `until`. Returns the exit code, or None when it still runs then.
    pub fn wait(&self, child: &Child, until: Until) -> Result<Option<i32>> {
        let r = child.wait(until);
        if matches!(r, Ok(Some(_)) | Err(_)) {
            let mut map = lock(&self.map);
            if map
                .get(&child.pid)
                .is_some_and(|c| std::ptr::eq(&**c, child))
            {
                map.remove(&child.pid);
            }
        }
        r
    }
}

impl Child {
    fn wait(&self, until: Until) -> Result<Option<i32>> {
        let mut st = lock(&self.state);
        loop {
            match &*st {
                Reap::Exited(code) => return Ok(Some(*code)),
                Reap::Lost(e) => return Err(e.clone()),
                Reap::Pending => break,
                // Another thread is in waitpid: wait for its news (it may also time out and
                // hand the reaping back: Pending again).
                Reap::Reaping => match until.left() {
                    None => st = self.done.wait(st).unwrap_or_else(|e| e.into_inner()),
                    Some(left) if left.is_zero() => return Ok(None),
                    Some(left) => {
                        st = self
                            .done
                            .wait_timeout(st, left)
                            .unwrap_or_else(|e| e.into_inner())
                            .0
                    }
                },
            }
        }
        *st = Reap::Reaping;
        drop(st);
        let r = waitpid(self.pid, until).map_err(|e| e.context("wait for the container init"));
        let mut st = lock(&self.state);
        let out = match r {
            Ok(Some(s)) => {
                *st = Reap::Exited(s.code());
                Ok(Some(s.code()))
            }
            Ok(None) => {
                *st = Reap::Pending;
                Ok(None)
            }
            Err(e) => {
                *st = Reap::Lost(e.clone());
                Err(e)
            }
        };
        self.done.notify_all();
        out
    }
}

/// The out-parameters of a wait with a limit (`rune_container_wait_timeout`,
/// `rune_process_wait_timeout`): cleared first, then set from what `wait` returns (whether the
/// process exited, and its exit code or 0).
pub(crate) fn wait_out(
    exited_out: *mut bool,
    exit_code_out: *mut i32,
    wait: impl FnOnce() -> Result<Option<i32>>,
) -> Result<()> {
    handle::clear_out(exited_out, "exited_out")?;
    handle::clear_out(exit_code_out, "exit_code_out")?;
    let code = wait()?;
    handle::write_out(exited_out, "exited_out", code.is_some())?;
    handle::write_out(exit_code_out, "exit_code_out", code.unwrap_or(0))
}

/// How long a wait may block.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Until {
    /// Not at all: only reap a process that has exited already.
    Now,
    /// Up to this instant.
    Deadline(Instant),
    /// Until the process exits.
    Exit,
}

impl Until {
    /// From a C timeout in milliseconds: 0 does not block, a negative one has no limit.
    pub fn from_ms(ms: i32) -> Until {
        match u64::try_from(ms) {
            Err(_) => Until::Exit,
            Ok(0) => Until::Now,
            Ok(ms) => Until::Deadline(Instant::now() + Duration::from_millis(ms)),
        }
    }

    /// The time left: None without a limit.
    fn left(self) -> Option<Duration> {
        match self {
            Until::Now => Some(Duration::ZERO),
            Until::Deadline(d) => Some(d.saturating_duration_since(Instant::now())),
            Until::Exit => None,
        }
    }
}

/// waitpid on one child, retrying on EINTR, until `until`: its exit status, or None when it
/// still runs then. Blocks in waitpid without a limit; with one, sleeps on a pidfd (readable
/// once the child exits; a short sleep on kernels without pidfd_open) between WNOHANG tries.
pub(crate) fn waitpid(pid: i32, until: Until) -> Result<Option<ExitStatus>> {
    if let Until::Exit = until {
        return Ok(Some(rune_core::process::wait_exit(pid)?));
    }
    let mut pidfd = None;
    loop {
        if let Some(s) = try_waitpid(pid)? {
            return Ok(Some(s));
        }
        let left = until.left().unwrap_or_default();
        if left.is_zero() {
            return Ok(None);
        }
        let fd = pidfd.get_or_insert_with(|| pidfd_open(pid));
        sleep_until_exit(fd.as_ref(), left);
    }
}

/// waitpid(WNOHANG), retrying on EINTR: None while the child runs.
fn try_waitpid(pid: i32) -> Result<Option<ExitStatus>> {
    let mut status = 0;
    loop {
        // SAFETY: waitpid on one pid with a valid status pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return Ok(Some(ExitStatus::from_raw(status)));
        }
        if r == 0 {
            return Ok(None);
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return Err(Error::from(rune_core::Error::io(
            format!("wait for process {pid}"),
            e,
        )));
    }
}

/// A pidfd of `pid`, or None (ENOSYS before Linux 5.3).
fn pidfd_open(pid: i32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    // SAFETY: a non-negative result is a new fd that nothing else owns.
    i32::try_from(fd)
        .ok()
        .filter(|fd| *fd >= 0)
        .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sleeps until the process of `pidfd` exits or `left` has passed (at most 10ms without a
/// pidfd). Returns early on a signal; the caller tries waitpid again either way.
fn sleep_until_exit(pidfd: Option<&OwnedFd>, left: Duration) {
    let Some(fd) = pidfd else {
        std::thread::sleep(left.min(Duration::from_millis(10)));
        return;
    };
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = i32::try_from(left.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX);
    // SAFETY: poll on one valid pollfd.
    unsafe { libc::poll(&mut p, 1, ms) };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A child process, reaped by the test through `Children` rather than `std::process`.
    #[allow(clippy::zombie_processes)]
    fn spawn(code: i32) -> i32 {
        spawn_sh(&format!("exit {code}"))
    }

    #[allow(clippy::zombie_processes)]
    fn spawn_sh(script: &str) -> i32 {
        let c = std::process::Command::new("/bin/sh")
            .args(["-c", script])
            .spawn()
            .unwrap();
        c.id() as i32
    }

    #[test]
    fn one_waitpid_shared_by_all_waiters() {
        let children = Children::default();
        let pid = spawn(7);
        let c = children.add(pid);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || c.wait(Until::Exit).unwrap())
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap(), Some(7));
        }
        assert_eq!(children.wait(&c, Until::Now).unwrap(), Some(7));
        assert!(children.get(pid).is_none());
    }

    #[test]
    fn a_process_reaped_elsewhere_is_an_error() {
        let children = Children::default();
        let pid = spawn(0);
        let c = children.add(pid);
        rune_core::process::wait_exit(pid).unwrap();
        let e = children.wait(&c, Until::Exit).unwrap_err();
        assert_eq!(e.errno, libc::ECHILD);
        assert!(children.get(pid).is_none());
    }

    #[test]
    fn a_wait_with_a_limit_returns_when_it_is_up_or_the_child_exits() {
        let children = Children::default();
        let c = children.add(spawn_sh("sleep 0.3; exit 4"));
        assert_eq!(children.wait(&c, Until::Now).unwrap(), None);
        let t = Instant::now();
        assert_eq!(children.wait(&c, Until::from_ms(50)).unwrap(), None);
        assert!(
            t.elapsed() >= Duration::from_millis(50),
            "{:?}",
            t.elapsed()
        );
        assert_eq!(children.wait(&c, Until::from_ms(10_000)).unwrap(), Some(4));
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        assert!(children.get(c.pid).is_none());
        assert_eq!(children.wait(&c, Until::Now).unwrap(), Some(4));
    }

    #[test]
    fn a_wait_with_a_limit_beside_a_blocking_one() {
        let children = Children::default();
        let c = children.add(spawn_sh("sleep 0.3; exit 6"));
        let blocking = {
            let c = c.clone();
            std::thread::spawn(move || c.wait(Until::Exit).unwrap())
        };
        // Whichever thread is in waitpid, the other gets its news; the limited one gives up
        // in time while the child runs.
        assert_eq!(children.wait(&c, Until::from_ms(20)).unwrap(), None);
        assert_eq!(children.wait(&c, Until::from_ms(10_000)).unwrap(), Some(6));
        assert_eq!(blocking.join().unwrap(), Some(6));
    }

    #[test]
    fn timeouts_in_milliseconds() {
        assert!(matches!(Until::from_ms(0), Until::Now));
        assert!(matches!(Until::from_ms(-1), Until::Exit));
        assert!(matches!(Until::from_ms(5), Until::Deadline(_)));
        assert_eq!(Until::Now.left(), Some(Duration::ZERO));
        assert_eq!(Until::Exit.left(), None);
    }
}
