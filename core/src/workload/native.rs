//! The plain workload, both sides: the host passes nothing and leaves exec and kill to the
//! common path; the init becomes the entrypoint (execve).

use super::{At, Elsewhere, Handler, Record, Workload, WorkloadConfig};
use crate::error::Result;
use crate::program::{lookup, Program};
use oci_spec::runtime::{Process, Spec};
use std::os::fd::{OwnedFd, RawFd};
use std::path::{Path, PathBuf};

pub struct Native;

impl Handler for Native {
    fn bind(&mut self, _spec: &Spec, _dir: &Path) -> Result<(WorkloadConfig, Vec<OwnedFd>)> {
        Ok((WorkloadConfig::default(), Vec::new()))
    }

    fn ready(&mut self, _pal_version: u32) {}

    fn record(&self) -> Record {
        Record::new()
    }

    fn exec(&self, _at: &At, _process: &Process) -> Option<Result<Elsewhere>> {
        None
    }

    fn signal(&self, _at: &At, _sig: i32) -> Option<Result<()>> {
        None
    }
}

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

    fn ready(&mut self, _program: &Program, _calling: &dyn Fn(&str) -> Result<()>) -> Result<u32> {
        Ok(0)
    }

    fn run(self: Box<Self>, program: Program, fifo: OwnedFd) -> Result<i32> {
        // The fifo is close-on-exec: `start` sees its last reader go once the program runs.
        let e = program.exec();
        drop(fifo);
        Err(e)
    }
}
