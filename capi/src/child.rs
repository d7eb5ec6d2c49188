//! Container inits created through librune are children of the host process: they must be
//! reaped by it, exactly once. A context keeps one [`Child`] per such init so that
//! `rune_container_wait` (blocking), `rune_container_delete` and `rune_container_free`
//! (non-blocking) share one `waitpid` and the exit code it returned.

use crate::error::{Error, Result};
use rune_core::process::ExitStatus;
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

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

    /// Waits for `child` (blocking, or only if it has exited already). Returns the exit code,
    /// or None when it is still running (non-blocking only).
    pub fn wait(&self, child: &Child, block: bool) -> Result<Option<i32>> {
        let r = child.wait(block);
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
    fn wait(&self, block: bool) -> Result<Option<i32>> {
        let mut st = lock(&self.state);
        loop {
            match &*st {
                Reap::Exited(code) => return Ok(Some(*code)),
                Reap::Lost(e) => return Err(e.clone()),
                Reap::Reaping if !block => return Ok(None),
                Reap::Reaping => st = self.done.wait(st).unwrap_or_else(|e| e.into_inner()),
                Reap::Pending => break,
            }
        }
        *st = Reap::Reaping;
        drop(st);
        let r = waitpid(self.pid, block);
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

/// waitpid on one pid, retrying on EINTR; None when `block` is false and it still runs.
fn waitpid(pid: i32, block: bool) -> Result<Option<ExitStatus>> {
    if block {
        return rune_core::process::wait_exit(pid)
            .map(Some)
            .map_err(|e| Error::from(e).context("wait for the container init"));
    }
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
            format!("wait for the container init (pid {pid})"),
            e,
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A child process, reaped by the test through `Children` rather than `std::process`.
    #[allow(clippy::zombie_processes)]
    fn spawn(code: i32) -> i32 {
        let c = std::process::Command::new("/bin/sh")
            .args(["-c", &format!("exit {code}")])
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
                std::thread::spawn(move || c.wait(true).unwrap())
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap(), Some(7));
        }
        assert_eq!(children.wait(&c, false).unwrap(), Some(7));
        assert!(children.get(pid).is_none());
    }

    #[test]
    fn a_process_reaped_elsewhere_is_an_error() {
        let children = Children::default();
        let pid = spawn(0);
        let c = children.add(pid);
        rune_core::process::wait_exit(pid).unwrap();
        let e = children.wait(&c, true).unwrap_err();
        assert_eq!(e.errno, libc::ECHILD);
        assert!(children.get(pid).is_none());
    }
}
