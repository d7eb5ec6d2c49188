//! Starting `rune init` from any host process, including multi-threaded ones: what the child
//! does before it becomes `rune init` (a [`Plan`]) and the started child. The clone itself and
//! the child's steps up to execve are `sys::clone::spawn_init` (raw system calls only: the
//! child may be a copy of a Go program whose other threads held locks at the time).

use crate::err;
use crate::error::{Error, Result};
use crate::sys::clone;
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// What the child does before it becomes `rune init`.
pub struct Plan {
    exe: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    /// CLONE_NEW* flags for the clone itself.
    pub clone_flags: i32,
    /// Execute the rune binary from a read-only mount of it (needs CLONE_NEWNS).
    pub ro_exe: bool,
    /// Kill the child if the host dies before it is set up (not for an exec proxy, which
    /// must outlive a detached `rune exec`).
    pub pdeathsig: bool,
}

/// A started child, executing (or about to execute) `rune init`.
pub struct Child {
    pub pid: i32,
    /// Written once the host has set up the user namespace maps (CLONE_NEWUSER only).
    go: Option<OwnedFd>,
    /// Carries a failure of the pre-exec steps; EOF means execve succeeded.
    err: OwnedFd,
}

impl Plan {
    /// `exe` is the rune binary, `fd` the init end of the channel (passed as argv[2]).
    pub fn new(exe: &Path, fd: RawFd, clone_flags: i32) -> Result<Plan> {
        let exe = CString::new(exe.as_os_str().as_bytes())
            .map_err(|_| err!(InvalidArgument, "rune binary path contains NUL"))?;
        // What the init is to be comes in its first message, not on its command line.
        let argv = crate::sys::exec::init_argv(fd);
        let envp = Vec::new();
        Ok(Plan {
            exe,
            argv,
            envp,
            clone_flags,
            ro_exe: clone_flags & libc::CLONE_NEWNS != 0,
            pdeathsig: true,
        })
    }

    /// The plan for an exec'd process's init: no namespace of its own (it joins the
    /// container's), the rune binary executed from a read-only mount of it when the container
    /// has a mount namespace to join (the exec'd process runs where the container's processes
    /// could see it).
    pub fn exec(exe: &Path, fd: RawFd, ro_exe: bool) -> Result<Plan> {
        let mut p = Plan::new(exe, fd, 0)?;
        p.ro_exe = ro_exe;
        Ok(p)
    }

    /// The plan for an exec proxy: no namespaces, and it outlives a detached `rune exec`.
    pub fn proxy(exe: &Path, fd: RawFd) -> Result<Plan> {
        let mut p = Plan::new(exe, fd, 0)?;
        p.pdeathsig = false;
        Ok(p)
    }

    /// Clones the child. `keep_fd` loses close-on-exec in the child only.
    pub fn spawn(&self, keep_fd: RawFd) -> Result<Child> {
        let wait_maps = self.clone_flags & libc::CLONE_NEWUSER != 0;
        let (err_r, err_w) = clone::pipe()?;
        let go = if wait_maps {
            Some(clone::pipe()?)
        } else {
            None
        };
        // Made here, where the binary's path can be walked; None leaves it to the child.
        let tree = match self.ro_exe {
            true => clone::ro_exe_tree(&self.exe)?,
            false => None,
        };
        // Without a detached mount of the binary (kernels before 5.12) the child binds it
        // read-only onto itself, in a mount namespace of its own.
        let clone_flags = match self.ro_exe && tree.is_none() {
            true => self.clone_flags | libc::CLONE_NEWNS,
            false => self.clone_flags,
        };
        let pid = clone::spawn_init(&clone::InitChild {
            exe: &self.exe,
            argv: &self.argv,
            envp: &self.envp,
            clone_flags,
            keep_fd,
            go_r: go.as_ref().map(|(r, _)| r.as_raw_fd()),
            err_w: err_w.as_raw_fd(),
            ro_exe: self.ro_exe,
            ro_tree: tree.as_ref().map_or(-1, |t| t.as_raw_fd()),
            pdeathsig: self.pdeathsig,
        })?;
        drop(err_w);
        Ok(Child {
            pid,
            go: go.map(|(_, w)| w),
            err: err_r,
        })
    }
}

impl Child {
    /// Lets a child waiting for its user namespace maps go on.
    pub fn release(&mut self) -> Result<()> {
        match self.go.take() {
            Some(w) => clone::release(w),
            None => Ok(()),
        }
    }

    /// After the channel closed early: why the child failed before or at execve, if it did.
    pub fn pre_exec_error(&self) -> Option<Error> {
        clone::failure(self.err.as_fd()).map(|(what, errno)| Error::os(what, errno))
    }
}
