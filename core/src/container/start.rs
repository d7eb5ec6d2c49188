//! `start`: releases a created container's init by writing to its exec fifo.

use super::{oci_state_value, Container, Status};
use crate::err;
use crate::error::{Context, Error, Result};
use crate::hooks::{self, Point};
use crate::store::EXEC_FIFO;
use crate::sys::{self, poll::poll, poll::PollFd};
use std::os::fd::AsFd;

impl Container {
    /// Starts the container. A failed poststart hook is an error and stops the container
    /// (runtime.md, lifecycle step 9), as runc does.
    pub fn start(&mut self) -> Result<()> {
        let dir = self.store.lock(self.id())?;
        self.state = dir.read_state()?;
        let status = self.status();
        if !status.can_start() {
            return Err(err!(
                InvalidState,
                "cannot start a container that is {}",
                status.as_str()
            ));
        }
        let fifo = dir.path().join(EXEC_FIFO);
        let f = sys::fd::open(&fifo, libc::O_WRONLY | libc::O_NONBLOCK | libc::O_CLOEXEC);
        let f = match f {
            Ok(f) => f,
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
                return Err(err!(
                    InvalidState,
                    "container {} is not running: its init is gone",
                    self.id()
                ))
            }
            Err(e) => return Err(Error::io(format!("open {}", fifo.display()), e)),
        };
        sys::fd::write_no_sigpipe(f.as_fd(), b"0").context("write to exec.fifo")?;
        self.started(dir, Some(f))
    }

    /// `run`'s start, for a container created with `start_at_once`: its init was released at
    /// create and did not wait for this call; what is left is `start`'s end (the fifo removed,
    /// the poststart hooks once the program runs), on the state create returned.
    pub fn start_released(&mut self) -> Result<()> {
        let dir = self.store.lock(self.id())?;
        let fifo = dir.path().join(EXEC_FIFO);
        // A writer's end to see the init's execve by (ENXIO: no reader left, it ran already).
        let f = sys::fd::open(&fifo, libc::O_WRONLY | libc::O_NONBLOCK | libc::O_CLOEXEC).ok();
        self.started(dir, f)
    }

    /// The end of `start`, the init released: exec.fifo removed (the container is running),
    /// then the poststart hooks, once the program runs (`f`: a writer's end of the fifo; None
    /// when the init had no reader left already).
    fn started(
        &mut self,
        dir: crate::store::LockedDir,
        f: Option<std::os::fd::OwnedFd>,
    ) -> Result<()> {
        let fifo = dir.path().join(EXEC_FIFO);
        std::fs::remove_file(&fifo).with_context(|| format!("remove {}", fifo.display()))?;
        drop(dir);
        let spec = &self.state.config;
        let poststart = Point::Poststart.of(spec);
        if let Some(f) = f.filter(|_| !poststart.is_empty()) {
            wait_for_exec(&f);
        }
        let json = oci_state_value(&self.state, Status::Running, self.state.init_pid).to_string();
        if let Err(e) = hooks::run(Point::Poststart, &poststart, &json) {
            let _ = self.kill(libc::SIGKILL, true);
            crate::process::wait_gone(
                self.state.init_pid,
                self.state.init_start_time,
                std::time::Duration::from_secs(10),
            );
            return Err(e);
        }
        Ok(())
    }
}

/// Waits until the init has run the user program (runtime.md: the poststart hooks come after
/// it). The init holds exec.fifo open, close-on-exec, until its execve (an enclave's host until
/// it hands the entrypoint to the enclave runtime); once no reader is left, our write end
/// reports POLLERR. Bounded, so that a stuck startContainer hook cannot hang `start`.
fn wait_for_exec(f: &impl AsFd) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return;
        }
        let mut p = [PollFd::new(f.as_fd(), 0)];
        match poll(&mut p, Some(left.min(std::time::Duration::from_secs(1)))) {
            Ok(n) if n > 0 => return,
            Err(e) if e.kind() != std::io::ErrorKind::Interrupted => return,
            _ => {}
        }
    }
}
