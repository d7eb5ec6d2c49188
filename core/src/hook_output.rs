//! What a hook writes to stdout and stderr, read while it runs: a hook that writes more than a
//! pipe holds must not block (and with it rune) until its timeout, or forever without one.

use crate::sys;
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

/// How much of each stream is kept for the error message; the rest is read and dropped.
const KEEP: usize = 64 * 1024;

/// The hook's stdout and stderr pipes and what came through them.
pub struct Captured {
    pipes: [Option<OwnedFd>; 2],
    text: [Vec<u8>; 2],
}

impl Captured {
    pub fn new(stdout: OwnedFd, stderr: OwnedFd) -> Captured {
        Captured {
            pipes: [Some(stdout), Some(stderr)],
            text: [Vec::new(), Vec::new()],
        }
    }

    /// Reads what is there, waiting at most `wait` for something; a pipe at EOF is closed.
    pub fn read_for(&mut self, wait: Duration) {
        let open: Vec<usize> = (0..2).filter(|i| self.pipes[*i].is_some()).collect();
        if open.is_empty() {
            std::thread::sleep(wait);
            return;
        }
        let ready = {
            let fds: Vec<_> = open
                .iter()
                .map(|i| self.pipes[*i].as_ref().map(|p| p.as_fd()))
                .collect::<Option<Vec<_>>>()
                .unwrap_or_default();
            match fds.as_slice() {
                [a] => sys::poll::readable([*a], Some(wait)).map(|r| vec![r[0]]),
                [a, b] => sys::poll::readable([*a, *b], Some(wait)).map(|r| r.to_vec()),
                _ => Ok(Vec::new()),
            }
        };
        for (n, i) in open.into_iter().enumerate() {
            if ready
                .as_ref()
                .map_or(true, |r| r.get(n).copied().unwrap_or(false))
            {
                self.read_one(i);
            }
        }
    }

    fn read_one(&mut self, i: usize) {
        let Some(p) = &self.pipes[i] else { return };
        let mut buf = [0u8; 8192];
        match sys::fd::read(p.as_fd(), &mut buf) {
            Ok(0) => self.pipes[i] = None,
            Ok(n) => {
                let room = KEEP.saturating_sub(self.text[i].len());
                self.text[i].extend_from_slice(&buf[..n.min(room)]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => self.pipes[i] = None,
        }
    }

    /// After the hook exited: what is left in the pipes, until EOF or `until` (a process the
    /// hook left behind may hold them open).
    pub fn finish(&mut self, until: Instant) {
        while self.pipes.iter().any(Option::is_some) {
            let now = Instant::now();
            if now >= until {
                break;
            }
            self.read_for((until - now).min(Duration::from_millis(50)));
        }
    }

    /// runc's words for a failed hook's output: `stdout: ..., stderr: ...`.
    pub fn describe(&self) -> String {
        format!(
            "stdout: {}, stderr: {}",
            String::from_utf8_lossy(&self.text[0]),
            String::from_utf8_lossy(&self.text[1])
        )
    }
}
