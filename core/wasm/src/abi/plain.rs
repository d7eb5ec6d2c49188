//! The engine of rune's plain wasm workload (a container annotated
//! `module.wasm.image/variant=compat` or `compat-smart`, without an enclave): the container's
//! init loads this library before its root switch, compiles the entrypoint once it is set up
//! (so a bad module fails `create`), and after `start` runs it in its own process, as crun and
//! youki run wasm, in place of an execve. Two functions, beside the PAL's:
//!
//! ```c
//! int rune_wasm_prepare(const char *path, char *err, size_t errlen);
//! int rune_wasm_run(char *const argv[], char *const envp[]);
//! ```

use crate::module::{self, Compiled};
use std::ffi::{c_char, c_int, CStr};
use std::sync::Mutex;

static PREPARED: Mutex<Option<Compiled>> = Mutex::new(None);

/// Compiles (validates) the module at `path` and keeps it for [`rune_wasm_run`]. Returns 0, or
/// a negative errno (-ENOENT, -EACCES, -ENOEXEC: not a valid module, ...) with the message in
/// `err` (NUL-terminated, cut to `errlen`).
///
/// # Safety
/// `path` is NUL-terminated; `err` is NULL or has `errlen` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn rune_wasm_prepare(
    path: *const c_char,
    err: *mut c_char,
    errlen: usize,
) -> c_int {
    if path.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: NUL-terminated (the contract).
    let path = unsafe { CStr::from_ptr(path) }
        .to_string_lossy()
        .into_owned();
    let compiled = std::panic::catch_unwind(|| module::compile(&path));
    let failure = match compiled {
        Ok(Ok(c)) => {
            *PREPARED.lock().unwrap_or_else(|p| p.into_inner()) = Some(c);
            return 0;
        }
        Ok(Err(e)) => e,
        Err(_) => module::LoadError {
            errno: libc::EIO,
            message: format!("compiling {path} panicked"),
        },
    };
    if !err.is_null() && errlen > 0 {
        let m = failure.message.as_bytes();
        let n = m.len().min(errlen - 1);
        // SAFETY: err has errlen >= n + 1 writable bytes (the contract).
        unsafe {
            std::ptr::copy_nonoverlapping(m.as_ptr(), err.cast(), n);
            *err.add(n) = 0;
        }
    }
    -failure.errno
}

/// Runs the prepared module as a WASI command with this process's fds 0-2 and returns its exit
/// code (134 for a trap, 127 when nothing was prepared). A module cannot handle signals, and
/// this process is the container's pid 1, which the kernel spares the signals it does not
/// handle: so SIGTERM, SIGINT and SIGHUP are handled here, ending it with 128 + the signal, as
/// a shell's exit code says, in a busy loop or a blocking call alike.
///
/// # Safety
/// `argv` and `envp` are NULL or NULL-terminated arrays of NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn rune_wasm_run(
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    let Some(compiled) = PREPARED.lock().unwrap_or_else(|p| p.into_inner()).take() else {
        module::say("rune-wasm: rune_wasm_run: no module prepared\n");
        return 127;
    };
    // SAFETY: the caller's contract.
    let (argv, env) = unsafe { (super::pal::strings(argv), super::pal::strings(envp)) };
    crate::sys::end_on(&[libc::SIGTERM, libc::SIGINT, libc::SIGHUP]);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| compiled.run(&argv, &env)))
        .unwrap_or(1)
}
