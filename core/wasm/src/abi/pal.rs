//! The PAL API v3 (include/pal.h): the functions rune's enclave host calls, over one instance
//! per process. Every call takes the lock; pal_exec drops it while it waits for its process, so
//! several pal_exec calls run at once (one per thread), with pal_kill and pal_create_process in
//! between. Failures return a negative errno (the skeleton's convention); a module that cannot
//! be loaded is also named on stderr.

use crate::module::{self, say};
use crate::process::{self, Proc};
use crate::report;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::{Condvar, Mutex, MutexGuard};

/// include/pal.h's structs, with the same layout.
#[repr(C)]
pub struct PalAttr {
    pub args: *const c_char,
    pub log_level: *const c_char,
}

#[repr(C)]
pub struct PalAttrV3 {
    pub attr_v1: PalAttr,
    pub fd: c_int,
    pub addr: u64,
}

#[repr(C)]
pub struct PalStdioFds {
    pub stdin: c_int,
    pub stdout: c_int,
    pub stderr: c_int,
}

#[repr(C)]
pub struct PalCreateProcessArgs {
    pub path: *mut c_char,
    pub argv: *mut *mut c_char,
    pub env: *mut *mut c_char,
    pub stdio: *mut PalStdioFds,
    pub pid: *mut c_int,
}

#[repr(C)]
pub struct PalExecArgs {
    pub pid: c_int,
    pub exit_value: *mut c_int,
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Phase {
    Uninit,
    Ready,
}

struct State {
    phase: Phase,
    /// Newest last: pal_kill(0) signals the last one.
    procs: Vec<Proc>,
    /// pal_exec calls waiting for their process.
    running: usize,
}

static STATE: Mutex<State> = Mutex::new(State {
    phase: Phase::Uninit,
    procs: Vec::new(),
    running: 0,
});
static ENDED: Condvar = Condvar::new();

fn lock() -> MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `f`, turning a panic into -EIO (no unwinding across the C ABI).
fn guarded(f: impl FnOnce() -> c_int) -> c_int {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(-libc::EIO)
}

#[no_mangle]
pub extern "C" fn pal_get_version() -> c_int {
    3
}

/// Takes no arguments (`enclave.runtime.args` must be empty); the log level is accepted and
/// unused (the PAL speaks only of modules it cannot load, always). A second call fails with
/// -EEXIST.
///
/// # Safety
/// `attr` is NULL or points to a pal_attr_v3_t whose strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn pal_init(attr: *const PalAttrV3) -> c_int {
    guarded(|| {
        // SAFETY: the caller's contract: NULL or a valid pal_attr_v3_t.
        let args = unsafe { attr.as_ref() }
            .map(|a| a.attr_v1.args)
            .filter(|p| !p.is_null())
            // SAFETY: a non-NULL args is NUL-terminated (the contract).
            .map(|p| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !args.trim().is_empty() {
            say(&format!(
                "rune-wasm: pal_init: takes no arguments (enclave.runtime.args is {args:?})\n"
            ));
            return -libc::EINVAL;
        }
        let mut s = lock();
        if s.phase == Phase::Ready {
            return -libc::EEXIST;
        }
        s.phase = Phase::Ready;
        0
    })
}

/// Strings of a NULL-terminated C array (NULL: none).
///
/// # Safety
/// `a` is NULL or a NULL-terminated array of NUL-terminated strings.
pub(crate) unsafe fn strings(a: *const *const c_char) -> Vec<String> {
    let mut out = Vec::new();
    if a.is_null() {
        return out;
    }
    let mut i = 0;
    loop {
        // SAFETY: within the NULL-terminated array (the contract).
        let p = unsafe { *a.add(i) };
        if p.is_null() {
            return out;
        }
        // SAFETY: each entry is NUL-terminated (the contract).
        out.push(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned());
        i += 1;
    }
}

fn open_fd(fd: c_int) -> bool {
    fd < 0 || crate::sys::is_open(fd)
}

/// Compiles the module at `path` (a `.wasm` file in the container) and forks its process,
/// which waits for pal_exec. -ENOENT, -EACCES, -ENOEXEC (not a valid module) and the like when
/// it cannot be loaded, with a message on stderr.
///
/// # Safety
/// `args` points to a pal_create_process_args as include/pal.h describes it.
#[no_mangle]
pub unsafe extern "C" fn pal_create_process(args: *mut PalCreateProcessArgs) -> c_int {
    guarded(|| {
        // SAFETY: the caller's contract.
        let Some(a) = (unsafe { args.as_ref() }) else {
            return -libc::EINVAL;
        };
        if a.path.is_null() || a.pid.is_null() {
            return -libc::EINVAL;
        }
        // SAFETY: path is NUL-terminated; argv and env are NULL or NULL-terminated arrays.
        let (path, mut argv, env) = unsafe {
            (
                CStr::from_ptr(a.path).to_string_lossy().into_owned(),
                strings(a.argv as *const *const c_char),
                strings(a.env as *const *const c_char),
            )
        };
        if argv.is_empty() {
            argv.push(path.clone());
        }
        // SAFETY: stdio is NULL or a valid pal_stdio_fds.
        let stdio = match unsafe { a.stdio.as_ref() } {
            Some(s) => [s.stdin, s.stdout, s.stderr],
            None => [0, 1, 2],
        };
        if !stdio.iter().all(|fd| open_fd(*fd)) {
            return -libc::EBADF;
        }
        if lock().phase != Phase::Ready {
            return -libc::EINVAL;
        }
        let compiled = match module::compile(&path) {
            Ok(c) => c,
            Err(e) => {
                // On the process's own stderr: an exec's caller sees why.
                process::complain(stdio[2], &e.message);
                return -e.errno;
            }
        };
        let mut s = lock();
        if s.phase != Phase::Ready {
            return -libc::EINVAL;
        }
        match process::spawn(&compiled, &argv, &env, stdio) {
            Ok(p) => {
                // SAFETY: pid is non-NULL (checked) and points to an int (the contract).
                unsafe { *a.pid = p.pid };
                s.procs.push(p);
                0
            }
            Err(e) => -e,
        }
    })
}

/// Starts the process and waits for its end; *exit_value is its exit code, or 128 + N when
/// signal N ended it (137 for SIGKILL), 134 when the module trapped.
///
/// # Safety
/// `args` points to a pal_exec_args as include/pal.h describes it.
#[no_mangle]
pub unsafe extern "C" fn pal_exec(args: *mut PalExecArgs) -> c_int {
    guarded(|| {
        // SAFETY: the caller's contract.
        let Some(a) = (unsafe { args.as_ref() }) else {
            return -libc::EINVAL;
        };
        if a.exit_value.is_null() {
            return -libc::EINVAL;
        }
        let pid = a.pid;
        let mut s = lock();
        let Some(p) = s.procs.iter_mut().find(|p| p.pid == pid) else {
            return -libc::ESRCH;
        };
        if p.release.is_none() {
            return -libc::EBUSY; // another pal_exec has it
        }
        process::release(p);
        s.running += 1;
        drop(s);
        let waited = process::wait_end(pid);
        let mut s = lock();
        let reaped = waited.and_then(|()| process::reap(pid));
        s.procs.retain(|p| p.pid != pid);
        s.running -= 1;
        ENDED.notify_all();
        match reaped {
            Ok(v) => {
                // SAFETY: exit_value is non-NULL (checked) and points to an int.
                unsafe { *a.exit_value = v };
                0
            }
            Err(e) => -e,
        }
    })
}

/// `pid` > 0: that process; 0: the newest; -1: all of them.
#[no_mangle]
pub extern "C" fn pal_kill(pid: c_int, sig: c_int) -> c_int {
    guarded(|| {
        if !(0..65).contains(&sig) {
            return -libc::EINVAL;
        }
        let s = lock();
        let outcome = match pid {
            -1 => s
                .procs
                .iter()
                .map(|p| process::signal(p.pid, sig))
                .find(|r| r.is_err())
                .unwrap_or(Ok(())),
            0 => match s.procs.last() {
                Some(p) => process::signal(p.pid, sig),
                None => Err(libc::ESRCH),
            },
            p if p > 0 => match s.procs.iter().find(|q| q.pid == p) {
                Some(q) => process::signal(q.pid, sig),
                None => Err(libc::ESRCH),
            },
            _ => Err(libc::EINVAL),
        };
        outcome.map_or_else(|e| -e, |()| 0)
    })
}

/// Ends every process (SIGKILL), reaps the ones nobody waits for and waits until the pal_exec
/// calls have reaped theirs. Then pal_init may be called again.
#[no_mangle]
pub extern "C" fn pal_destroy() -> c_int {
    guarded(|| {
        let mut s = lock();
        if s.phase != Phase::Ready {
            return -libc::EINVAL;
        }
        for p in &s.procs {
            let _ = process::signal(p.pid, libc::SIGKILL);
        }
        let (waiting, rest): (Vec<Proc>, Vec<Proc>) =
            s.procs.drain(..).partition(|p| p.release.is_some());
        s.procs = rest;
        drop(s);
        for p in waiting {
            drop(p.release);
            let _ = process::reap(p.pid);
        }
        let mut s = lock();
        while s.running > 0 {
            s = ENDED.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        s.phase = Phase::Uninit;
        0
    })
}

/// A simulated local report (see `report.rs`): -ENOSPC with *report_len set when the buffer is
/// too small.
///
/// # Safety
/// `target_info` is NULL or `target_info_len` readable bytes; `report` has *report_len
/// writable bytes; `report_len` points to an int.
#[no_mangle]
pub unsafe extern "C" fn pal_get_local_report(
    target_info: *const c_void,
    target_info_len: c_int,
    report: *mut c_void,
    report_len: *mut c_int,
) -> c_int {
    guarded(|| {
        if report_len.is_null() || target_info_len < 0 {
            return -libc::EINVAL;
        }
        if lock().phase != Phase::Ready {
            return -libc::EINVAL;
        }
        let ti: &[u8] = match target_info.is_null() || target_info_len == 0 {
            true => &[],
            // SAFETY: target_info has target_info_len readable bytes (the contract).
            false => unsafe {
                std::slice::from_raw_parts(target_info.cast(), target_info_len as usize)
            },
        };
        // SAFETY: report_len points to an int (the contract).
        let room = unsafe { *report_len };
        let made = report::make(ti);
        // SAFETY: as above.
        unsafe { *report_len = made.len() as c_int };
        if report.is_null() || room < made.len() as c_int {
            return -libc::ENOSPC;
        }
        // SAFETY: report has room (checked) for made.len() bytes (the contract).
        unsafe { std::ptr::copy_nonoverlapping(made.as_ptr(), report.cast(), made.len()) };
        0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// include/pal.h's sizes on x86-64.
    #[test]
    fn layouts_match_pal_h() {
        assert_eq!(std::mem::size_of::<PalAttr>(), 16);
        assert_eq!(std::mem::size_of::<PalAttrV3>(), 32);
        assert_eq!(std::mem::size_of::<PalStdioFds>(), 12);
        assert_eq!(std::mem::size_of::<PalCreateProcessArgs>(), 40);
        assert_eq!(std::mem::size_of::<PalExecArgs>(), 16);
    }
}
