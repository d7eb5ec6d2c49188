//! The PAL calls, with C strings and structs built and kept alive for each call.

use super::convention::UNSET;
use super::{call_error, failure, ffi, Entry, Life, Pal};
use crate::err;
use crate::error::Result;
use crate::sys::CStrArray;
use std::ffi::CString;
use std::os::fd::RawFd;

fn set_errno(v: i32) {
    // SAFETY: errno is thread-local and writable.
    unsafe { *libc::__errno_location() = v };
}

fn errno() -> i32 {
    // SAFETY: errno is thread-local and readable.
    unsafe { *libc::__errno_location() }
}

/// Runs one PAL call with errno cleared first, turning a non-zero return into an error.
fn call(name: &str, f: impl FnOnce() -> i32) -> Result<()> {
    set_errno(0);
    let ret = f();
    let e = errno();
    if ret == 0 {
        Ok(())
    } else {
        Err(call_error(name, ret, e))
    }
}

fn cstring(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| err!(InvalidArgument, "{:?} contains NUL", s))
}

/// C strings of `items`; one with a NUL is an error naming it.
fn cstrings(items: &[String]) -> Result<Vec<CString>> {
    items.iter().map(|s| cstring(s)).collect()
}

impl Pal {
    /// pal_init with the runtime's arguments and log level (v3: no pre-created enclave).
    pub fn init(&self, args: &str, log_level: &str) -> Result<()> {
        self.init_once(args, log_level)?;
        *self.life.lock().unwrap_or_else(|p| p.into_inner()) = Life::Initialised;
        Ok(())
    }

    fn init_once(&self, args: &str, log_level: &str) -> Result<()> {
        let a = cstring(args)?;
        let l = cstring(log_level)?;
        let mut attr = ffi::pal_attr_t {
            args: a.as_ptr(),
            log_level: l.as_ptr(),
        };
        match &self.entry {
            Entry::V1 { init, .. } | Entry::V2 { init, .. } => {
                // SAFETY: attr and its strings live across the call, which does not keep them.
                call("pal_init", || unsafe { init(&mut attr) })
            }
            Entry::V3 { init, .. } => {
                let mut v3 = ffi::pal_attr_v3_t {
                    attr_v1: attr,
                    fd: -1,
                    addr: 0,
                };
                // SAFETY: as above.
                call("pal_init", || unsafe { init(&mut v3) })
            }
        }
    }

    /// pal_create_process (v2+): returns the PAL's id of the new process.
    pub fn create_process(
        &self,
        path: &str,
        argv: &[String],
        env: &[String],
        stdio: [RawFd; 3],
    ) -> Result<i32> {
        let create = match &self.entry {
            Entry::V2 { create, .. } | Entry::V3 { create, .. } => *create,
            Entry::V1 { .. } => return Err(self.unsupported("pal_create_process", 2)),
        };
        let p = cstring(path)?;
        let (argv, env) = (cstrings(argv)?, cstrings(env)?);
        let (mut argv, mut env) = (CStrArray::new(&argv), CStrArray::new(&env));
        let mut fds = ffi::pal_stdio_fds {
            stdin: stdio[0],
            stdout: stdio[1],
            stderr: stdio[2],
        };
        let mut pid: libc::c_int = UNSET;
        let mut args = ffi::pal_create_process_args {
            path: p.as_ptr() as *mut _,
            argv: argv.as_mut_ptr(),
            env: env.as_mut_ptr(),
            stdio: &mut fds,
            pid: &mut pid,
        };
        // SAFETY: every pointer in args outlives the call.
        call("pal_create_process", || unsafe { create(&mut args) })?;
        self.convention.process_id(pid)
    }

    /// pal_exec (v2+): runs the created process to its end; returns its exit code.
    pub fn exec(&self, pid: i32) -> Result<i32> {
        let exec = match &self.entry {
            Entry::V2 { exec, .. } | Entry::V3 { exec, .. } => *exec,
            Entry::V1 { .. } => return Err(self.unsupported("pal_exec(pal_exec_args)", 2)),
        };
        let mut value: libc::c_int = UNSET;
        let mut args = ffi::pal_exec_args {
            pid,
            exit_value: &mut value,
        };
        // SAFETY: args and value outlive the call.
        call("pal_exec", || unsafe { exec(&mut args) })?;
        self.convention.exit_code("pal_exec", value)
    }

    /// v1's pal_exec: create, run and wait in one call.
    pub fn exec_v1(&self, path: &str, argv: &[String], stdio: [RawFd; 3]) -> Result<i32> {
        let exec = match &self.entry {
            Entry::V1 { exec, .. } => *exec,
            _ => {
                return Err(err!(
                    Internal,
                    "pal_exec v1 called on a v{} PAL",
                    self.version
                ))
            }
        };
        let p = cstring(path)?;
        let argv = cstrings(argv)?;
        let mut argv = CStrArray::new(&argv);
        let mut fds = ffi::pal_stdio_fds {
            stdin: stdio[0],
            stdout: stdio[1],
            stderr: stdio[2],
        };
        let mut code: libc::c_int = UNSET;
        // SAFETY: every pointer outlives the call.
        call("pal_exec", || unsafe {
            exec(p.as_ptr() as *mut _, argv.as_mut_ptr(), &mut fds, &mut code)
        })?;
        self.convention.exit_code("pal_exec", code)
    }

    /// pal_kill (v2+). A refusal names the call, the signal and the PAL's reason.
    pub fn kill(&self, pid: i32, sig: i32) -> Result<()> {
        let kill = match &self.entry {
            Entry::V2 { kill, .. } | Entry::V3 { kill, .. } => *kill,
            Entry::V1 { .. } => return Err(self.unsupported("pal_kill", 2)),
        };
        set_errno(0);
        // SAFETY: plain integers.
        let ret = unsafe { kill(pid, sig) };
        let e = errno();
        if ret == 0 {
            return Ok(());
        }
        let (how, code) = failure(ret, e);
        Err(err!(
            Enclave,
            "enclave runtime: pal_kill({}, {}) refused: {}",
            pid,
            crate::sys::signal::abbrev(sig),
            how
        )
        .with_errno(code))
    }

    /// pal_destroy, once and only after a successful pal_init; a later call (from another
    /// thread too) does nothing, after the first call has returned.
    pub fn destroy(&self) -> Result<()> {
        let mut life = self.life.lock().unwrap_or_else(|p| p.into_inner());
        if *life != Life::Initialised {
            return Ok(());
        }
        *life = Life::Destroyed;
        // SAFETY: no arguments; the lock keeps a second destroy from running beside it.
        call("pal_destroy", || unsafe { (self.destroy)() })
    }

    /// pal_get_local_report (v3): the report for `target_info` (may be empty).
    pub fn local_report(&self, target_info: &[u8]) -> Result<Vec<u8>> {
        let report = match &self.entry {
            Entry::V3 { report, .. } => *report,
            _ => return Err(self.unsupported("pal_get_local_report", 3)),
        };
        let mut ti = target_info.to_vec();
        let ti_ptr = if ti.is_empty() {
            std::ptr::null_mut()
        } else {
            ti.as_mut_ptr() as *mut libc::c_void
        };
        let mut buf = vec![0u8; 4096];
        let mut len: libc::c_int = buf.len() as libc::c_int;
        // SAFETY: the buffers and lengths describe valid memory for the call.
        call("pal_get_local_report", || unsafe {
            report(
                ti_ptr,
                ti.len() as libc::c_int,
                buf.as_mut_ptr() as *mut libc::c_void,
                &mut len,
            )
        })?;
        buf.truncate(len.max(0) as usize);
        Ok(buf)
    }

    fn unsupported(&self, call: &str, need: u32) -> crate::Error {
        err!(
            Enclave,
            "{} is not supported by this enclave runtime (PAL v{}; needs v{} or later)",
            call,
            self.version,
            need
        )
    }
}
