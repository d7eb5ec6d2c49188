//! `rune_enclave_t`: the direct enclave API, for hosts that drive an enclave runtime without a
//! container. The PAL (include/pal.h) is loaded into the calling process (no fork): every call
//! below is a PAL call made in the caller's thread.

use crate::error::{rune_error_t, rune_result_t, Error};
use crate::handle::{self, Opaque};
use crate::panic::{boundary, or_default};
use crate::string;
use rune_core::enclave::pal::Pal;
use std::ffi::c_char;

/// A loaded enclave runtime. Opaque; made by `rune_enclave_load`, freed by
/// `rune_enclave_free` (which does not call `pal_destroy`: call `rune_enclave_destroy` first).
pub struct rune_enclave_t {
    _private: [u8; 0],
}

impl Opaque for rune_enclave_t {
    type Rust = Pal;
    const NAME: &'static str = "rune_enclave_t";
}

/// Loads the enclave runtime at `path` (an absolute path to a PAL shared library), negotiates
/// its PAL API version (1 to 3) and resolves every symbol that version needs; a missing one is
/// an error naming it. `path` is copied. Free the handle with `rune_enclave_free`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_enclave_load(
    path: *const c_char,
    enclave_out: *mut *mut rune_enclave_t,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_enclave_load", err_out, || {
        handle::clear_out(enclave_out, "enclave_out")?;
        let p = string::path_arg(path, "path")?;
        let pal = Pal::load(&p).map_err(Error::from)?;
        handle::write_out(
            enclave_out,
            "enclave_out",
            handle::new::<rune_enclave_t>(pal),
        )
    })
}

/// The PAL API version of a loaded enclave runtime (1-3), or 0 for an invalid handle.
#[no_mangle]
pub unsafe extern "C" fn rune_enclave_version(enclave: *const rune_enclave_t) -> u32 {
    or_default(0, || {
        handle::borrow(enclave).map(|p| p.version()).unwrap_or(0)
    })
}

/// `pal_init`: `args` (space-separated runtime options, may be NULL for none) and `log_level`
/// (NULL for "info") are copied. Failures name the call, its return value and errno.
#[no_mangle]
pub unsafe extern "C" fn rune_enclave_init(
    enclave: *const rune_enclave_t,
    args: *const c_char,
    log_level: *const c_char,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_enclave_init", err_out, || {
        let pal = handle::borrow(enclave)?;
        let a = if args.is_null() {
            String::new()
        } else {
            string::arg(args, "args")?
        };
        let l = if log_level.is_null() {
            "info".to_string()
        } else {
            string::arg(log_level, "log_level")?
        };
        pal.init(&a, &l).map_err(Error::from)
    })
}

/// `pal_create_process` (PAL v2+): starts `path` with `argv` (`argc` strings, argv[0]
/// included) and `envp` (`envc` "NAME=value" strings) on the given stdin/stdout/stderr fds,
/// which stay the caller's. Stores the PAL's process id in `*pid_out`. Inputs are copied.
#[no_mangle]
pub unsafe extern "C" fn rune_enclave_create_process(
    enclave: *const rune_enclave_t,
    path: *const c_char,
    argv: *const *const c_char,
    argc: usize,
    envp: *const *const c_char,
    envc: usize,
    stdin_fd: i32,
    stdout_fd: i32,
    stderr_fd: i32,
    pid_out: *mut i32,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_enclave_create_process", err_out, || {
        handle::clear_out(pid_out, "pid_out")?;
        let pal = handle::borrow(enclave)?;
        let p = string::arg(path, "path")?;
        let a = string::array_arg(argv, argc, "argv")?;
        let e = string::array_arg(envp, envc, "envp")?;
        let pid = pal
            .create_process(&p, &a, &e, [stdin_fd, stdout_fd, stderr_fd])
            .map_err(Error::from)?;
        handle::write_out(pid_out, "pid_out", pid)
    })
}

/// `pal_exec` (PAL v2+): runs the created process `pid` to its end and stores its exit code in
/// `*exit_code_out` (0-255, or 128+N when killed by signal N). Blocks; other calls on the same
/// handle may run meanwhile from other threads (`rune_enclave_kill`).
#[no_mangle]
pub unsafe extern "C" fn rune_enclave_exec(
    enclave: *const rune_enclave_t,
    pid: i32,
    exit_code_out: *mut i32,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_enclave_exec", err_out, || {
        handle::clear_out(exit_code_out, "exit_code_out")?;
        let pal = handle::borrow(enclave)?;
        let code = pal.exec(pid).map_err(Error::from)?;
        handle::write_out(exit_code_out, "exit_code_out", code)
    })
}

/// v1's `pal_exec`: creates, runs and waits for `path` in one call (the only way a v1 PAL runs
/// a process). Inputs are copied; stores the exit code in `*exit_code_out`.
#[no_mangle]
pub unsafe extern "C" fn rune_enclave_exec_v1(
    enclave: *const rune_enclave_t,
    path: *const c_char,
    argv: *const *const c_char,
    argc: usize,
    stdin_fd: i32,
    stdout_fd: i32,
    stderr_fd: i32,
    exit_code_out: *mut i32,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_enclave_exec_v1", err_out, || {
        handle::clear_out(exit_code_out, "exit_code_out")?;
        let pal = handle::borrow(enclave)?;
        let p = string::arg(path, "path")?;
        let a = string::array_arg(argv, argc, "argv")?;
        let code = pal
            .exec_v1(&p, &a, [stdin_fd, stdout_fd, stderr_fd])
            .map_err(Error::from)?;
        handle::write_out(exit_code_out, "exit_code_out", code)
    })
}

/// `pal_kill` (PAL v2+): sends `sig` to process `pid` (-1: all, 0: the current one).
#[no_mangle]
pub unsafe extern "C" fn rune_enclave_kill(
    enclave: *const rune_enclave_t,
    pid: i32,
    sig: i32,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_enclave_kill", err_out, || {
        handle::borrow(enclave)?.kill(pid, sig).map_err(Error::from)
    })
}

/// `pal_destroy`: tears the enclave down. Call once, after the last process ended.
#[no_mangle]
pub unsafe extern "C" fn rune_enclave_destroy(
    enclave: *const rune_enclave_t,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_enclave_destroy", err_out, || {
        handle::borrow(enclave)?.destroy().map_err(Error::from)
    })
}

/// `pal_get_local_report` (PAL v3): the local attestation report for `target_info`
/// (`target_info_len` bytes, may be NULL with length 0). On success `*report_out` is a new
/// buffer of `*report_len_out` bytes, freed by the caller with `rune_bytes_free`.
#[no_mangle]
pub unsafe extern "C" fn rune_enclave_local_report(
    enclave: *const rune_enclave_t,
    target_info: *const u8,
    target_info_len: usize,
    report_out: *mut *mut u8,
    report_len_out: *mut usize,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_enclave_local_report", err_out, || {
        handle::clear_out(report_out, "report_out")?;
        handle::clear_out(report_len_out, "report_len_out")?;
        let pal = handle::borrow(enclave)?;
        let ti: &[u8] = if target_info_len == 0 {
            &[]
        } else if target_info.is_null() {
            return Err(Error::null("target_info"));
        } else {
            // SAFETY: a non-NULL buffer of target_info_len readable bytes (the contract).
            std::slice::from_raw_parts(target_info, target_info_len)
        };
        let report = pal.local_report(ti).map_err(Error::from)?;
        let len = report.len();
        let p = Box::into_raw(report.into_boxed_slice()) as *mut u8;
        handle::write_out(report_len_out, "report_len_out", len)?;
        handle::write_out(report_out, "report_out", p)
    })
}

/// Frees a buffer returned by `rune_enclave_local_report` (with its length). NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn rune_bytes_free(bytes: *mut u8, len: usize) {
    or_default((), || {
        if !bytes.is_null() {
            // SAFETY: made by Box::into_raw of a boxed slice of exactly `len` bytes.
            drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                bytes, len,
            )));
        }
    })
}

/// Unloads the enclave runtime (dlclose). Does not call `pal_destroy`. NULL or a freed handle
/// is ignored. Must be the last use of the handle.
#[no_mangle]
pub unsafe extern "C" fn rune_enclave_free(enclave: *mut rune_enclave_t) {
    or_default((), || {
        handle::free(enclave);
    })
}
