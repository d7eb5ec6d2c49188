//! The create steps for real ([`super::setup::CreateSteps`]): this process, its kernel (`os`)
//! and its channel to the host. `setup::create_in_order` takes them in order.

use super::message::{CreateConfig, FromInit, InitEnd};
use super::setup::{
    above, console, enter_root, hooks_round_trip, make_mounts, prepare_process, CreateSteps,
};
use crate::err;
use crate::error::Result;
use crate::hooks::{self, Point};
use crate::program::Program;
use crate::sys::syscall::Syscall;
use crate::{rootfs, sys, workload};
use oci_spec::runtime::Process;
use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

/// The create steps for real: this process, its kernel (`os`) and its channel to the host.
pub(super) struct Kernel<'a> {
    os: &'a dyn Syscall,
    cfg: &'a CreateConfig,
    process: &'a Process,
    ch: &'a InitEnd,
    floor: i32,
    /// What the host passed, until `close_inherited` sorts it.
    passed: Vec<OwnedFd>,
    fifo: Option<OwnedFd>,
    workload: Option<Box<dyn workload::Workload>>,
    sources: HashMap<usize, OwnedFd>,
    /// The state JSON the container's hooks get.
    state: String,
    program: Option<Program>,
}

impl<'a> Kernel<'a> {
    pub(super) fn new(
        os: &'a dyn Syscall,
        cfg: &'a CreateConfig,
        process: &'a Process,
        fds: Vec<OwnedFd>,
        ch: &'a InitEnd,
    ) -> Result<Kernel<'a>> {
        Ok(Kernel {
            os,
            cfg,
            process,
            ch,
            floor: 3 + cfg.common.preserve_fds,
            passed: fds,
            fifo: None,
            workload: None,
            sources: HashMap::new(),
            state: String::new(),
            program: None,
        })
    }

    /// The passed descriptors, moved above the floor: the exec fifo, the workload's, then the
    /// bind sources.
    fn sort_passed(&mut self) -> Result<()> {
        let floor = self.floor;
        let fds: Vec<OwnedFd> = std::mem::take(&mut self.passed)
            .into_iter()
            .map(|fd| above(fd, floor))
            .collect::<Result<_>>()?;
        let mut fds = fds.into_iter();
        let fifo = fds
            .next()
            .ok_or_else(|| err!(Internal, "create without its exec fifo"))?;
        self.workload = Some(workload::select(&self.cfg.workload, &mut fds)?);
        self.sources = self.cfg.bind_fds.iter().copied().zip(fds).collect();
        self.fifo = Some(fifo);
        Ok(())
    }

    fn fifo(&self) -> Result<&OwnedFd> {
        self.fifo
            .as_ref()
            .ok_or_else(|| err!(Internal, "the exec fifo is gone"))
    }

    fn workload(&mut self) -> Result<&mut Box<dyn workload::Workload>> {
        self.workload
            .as_mut()
            .ok_or_else(|| err!(Internal, "the workload has run already"))
    }

    /// The container's own hooks of `point`, with the process's environment, in `dir` (the
    /// rootfs before the root switch) or the new root.
    fn container_hooks(&self, point: Point, dir: Option<&Path>) -> Result<()> {
        let env = self.process.env().clone().unwrap_or_default();
        let spec = &self.cfg.common.spec;
        hooks::run_in(point, &point.of(spec), &self.state, dir, Some(&env))
    }
}

impl CreateSteps for Kernel<'_> {
    fn seal(&mut self) -> Result<()> {
        sys::prctl(libc::PR_SET_DUMPABLE, 0, "make rune init non-dumpable")
    }

    fn close_inherited(&mut self) -> Result<()> {
        // Nothing of the caller's beyond stdio, the preserved fds and what rune passed on
        // stays open: an enclave keeper never execs, so close-on-exec alone would not do
        // (CVE-2024-21626).
        self.sort_passed()?;
        let mut keep = vec![self.ch.channel().raw(), self.fifo()?.as_raw_fd()];
        keep.extend(self.workload()?.fds());
        keep.extend(self.sources.values().map(|fd| fd.as_raw_fd()));
        // Every descriptor this process owns from the floor up is in `keep` (the channel, the
        // fifo, the workload's, the bind sources); the others are the caller's.
        sys::close_fds_from(self.floor, &keep)
    }

    fn load_workload(&mut self) -> Result<()> {
        self.workload()?.load()
    }

    fn mounts(&mut self) -> Result<()> {
        let sources = std::mem::take(&mut self.sources);
        make_mounts(self.os, self.cfg, &sources)
    }

    fn host_hooks(&mut self) -> Result<()> {
        // Bind sources not mounted (no mount namespace) are closed now.
        self.sources.clear();
        self.state = hooks_round_trip(&self.cfg.common.spec, self.ch)?;
        Ok(())
    }

    fn create_container_hooks(&mut self) -> Result<()> {
        self.container_hooks(Point::CreateContainer, Some(&self.cfg.common.rootfs))
    }

    fn enter_root(&mut self, has_mntns: bool) -> Result<()> {
        enter_root(self.os, self.cfg, has_mntns)
    }

    fn set_names(&mut self) -> Result<()> {
        crate::namespaces::set_names(self.os, &self.cfg.common.spec)
    }

    fn console(&mut self) -> Result<()> {
        console(self.process, self.ch)
    }

    fn finish_rootfs(&mut self) -> Result<()> {
        rootfs::finish(self.os, &self.cfg.common.spec)
    }

    fn root_propagation(&mut self) -> Result<()> {
        rootfs::set_root_propagation(self.os, &self.cfg.common.spec)
    }

    fn join_keyring(&mut self) {
        sys::session::join_session_keyring(&self.cfg.id);
    }

    fn prepare_process(&mut self) -> Result<()> {
        let (process, common, ch) = (self.process, &self.cfg.common, self.ch);
        let workload = self.workload()?;
        let program = prepare_process(process, common, &|n, e| workload.resolve(n, e), ch)?;
        self.program = Some(program);
        Ok(())
    }

    fn ready(&mut self) -> Result<()> {
        let ch = self.ch;
        let calling = |call: &str| {
            ch.send(&FromInit::Calling {
                call: call.to_string(),
            })
        };
        let program = self
            .program
            .as_ref()
            .ok_or_else(|| err!(Internal, "ready before prepare_process"))?;
        let workload = self
            .workload
            .as_mut()
            .ok_or_else(|| err!(Internal, "the workload has run already"))?;
        let pal_version = workload.ready(program, &calling)?;
        sys::fdpass::cloexec_from(self.floor);
        sys::prctl(libc::PR_SET_PDEATHSIG, 0, "clear the parent-death signal")?;
        ch.send(&FromInit::Ready { pal_version })
    }

    fn wait_start(&mut self) -> Result<()> {
        // Kept open (close-on-exec) until the program runs: `start` waits for the last reader
        // to go before it runs the poststart hooks.
        sys::fifo::wait_byte(self.fifo()?.as_fd())?;
        // Nobody reads the channel once the container is made: `run` may still hold its end
        // while it writes the record, and an error sent now (a startContainer hook's) would
        // be lost there. Shut down, a later error goes to this process's stderr, as `start`
        // from another process always had it.
        self.ch.channel().shutdown();
        Ok(())
    }

    fn start_container_hooks(&mut self) -> Result<()> {
        self.container_hooks(Point::StartContainer, None)
    }

    fn run(&mut self) -> Result<i32> {
        let workload = self
            .workload
            .take()
            .ok_or_else(|| err!(Internal, "the workload has run already"))?;
        let program = self
            .program
            .take()
            .ok_or_else(|| err!(Internal, "run before prepare_process"))?;
        let fifo = self
            .fifo
            .take()
            .ok_or_else(|| err!(Internal, "the exec fifo is gone"))?;
        workload.run(program, fifo)
    }
}
