//! The plain workload: the init becomes the entrypoint (execve).

use super::Workload;
use crate::error::Result;
use crate::program::{lookup, Program};
use std::os::fd::{OwnedFd, RawFd};
use std::path::PathBuf;

pub struct Native;

impl Workload for Native {
    fn fds(&self) -> Vec<RawFd> {
        Vec::new()
    }

    fn load(&mut self) -> Result<()> {
        Ok(())
    }

    fn resolve(&self, name: &str, env: &[String]) -> Result<PathBuf> {
        lookup(name, env)
    }

    fn ready(&mut self, _calling: &dyn Fn(&str) -> Result<()>) -> Result<u32> {
        Ok(0)
    }

    fn run(self: Box<Self>, program: Program, fifo: OwnedFd) -> Result<i32> {
        // The fifo is close-on-exec: `start` sees its last reader go once the program runs.
        let e = program.exec();
        drop(fifo);
        Err(e)
    }
}
