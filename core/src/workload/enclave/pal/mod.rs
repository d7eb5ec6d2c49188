//! Loading an enclave runtime (a PAL: a shared library implementing the Enclave Runtime PAL
//! API) and calling it safely. Every required symbol of the PAL's version is resolved at load
//! time, so a missing one is an error naming it, never a crash later.

// The FFI to enclave runtimes: unsafe calls into C, each with its SAFETY comment.
#![allow(unsafe_code)]

mod calls;
pub mod convention;
pub mod ffi;

pub use convention::{Convention, ExitStatus, Flavor};

use crate::err;
use crate::error::{Error, Result};
use libloading::os::unix::{Library, Symbol, RTLD_LOCAL, RTLD_NOW};
use std::path::{Path, PathBuf};

/// The PAL API versions rune implements.
pub const MIN_VERSION: u32 = 1;
pub const MAX_VERSION: u32 = 3;

type FnVersion = unsafe extern "C" fn() -> libc::c_int;
type FnInitV1 = unsafe extern "C" fn(*mut ffi::pal_attr_t) -> libc::c_int;
type FnInitV3 = unsafe extern "C" fn(*mut ffi::pal_attr_v3_t) -> libc::c_int;
type FnExecV1 = unsafe extern "C" fn(
    *mut libc::c_char,
    *mut *mut libc::c_char,
    *mut ffi::pal_stdio_fds,
    *mut libc::c_int,
) -> libc::c_int;
type FnExecV2 = unsafe extern "C" fn(*mut ffi::pal_exec_args) -> libc::c_int;
type FnCreate = unsafe extern "C" fn(*mut ffi::pal_create_process_args) -> libc::c_int;
type FnKill = unsafe extern "C" fn(libc::c_int, libc::c_int) -> libc::c_int;
type FnDestroy = unsafe extern "C" fn() -> libc::c_int;
type FnReport = unsafe extern "C" fn(
    *mut libc::c_void,
    libc::c_int,
    *mut libc::c_void,
    *mut libc::c_int,
) -> libc::c_int;

/// The entry points of one PAL, by version.
enum Entry {
    V1 {
        init: FnInitV1,
        exec: FnExecV1,
    },
    V2 {
        init: FnInitV1,
        create: FnCreate,
        exec: FnExecV2,
        kill: FnKill,
    },
    V3 {
        init: FnInitV3,
        create: FnCreate,
        exec: FnExecV2,
        kill: FnKill,
        report: FnReport,
    },
}

/// Where a PAL is in its life: pal_destroy follows a successful pal_init, exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Life {
    Loaded,
    Initialised,
    Destroyed,
}

/// A loaded enclave runtime. Its functions may be called from several threads (rune runs
/// concurrent execs). pal_destroy is called once, after a successful pal_init: by `destroy`
/// (a second caller waits for the first's call to end, then returns) or else on drop.
pub struct Pal {
    path: PathBuf,
    version: u32,
    convention: Convention,
    entry: Entry,
    destroy: FnDestroy,
    life: std::sync::Mutex<Life>,
    // Keeps the library mapped for as long as the function pointers above are used.
    _lib: Library,
}

impl Pal {
    /// dlopen()s the PAL, negotiates its version and resolves every symbol it needs; its
    /// conventions are guessed from its exports.
    pub fn load(path: &Path) -> Result<Pal> {
        Pal::load_with(path, None)
    }

    /// As `load`, with the exit-value convention given (`enclave.runtime.exit-status`).
    pub fn load_with(path: &Path, exit: Option<ExitStatus>) -> Result<Pal> {
        Pal::load_named(path, path, exit)
    }

    /// As `load_with`, from `from` (a descriptor's /proc path) for the runtime at `path`, which
    /// the errors name.
    pub fn load_named(from: &Path, path: &Path, exit: Option<ExitStatus>) -> Result<Pal> {
        if !path.is_absolute() {
            return Err(err!(
                InvalidSpec,
                "enclave runtime path {} is not absolute",
                path.display()
            ));
        }
        if let Err(e) = std::fs::metadata(from) {
            return Err(err!(
                NotFound,
                "enclave runtime {}: {}",
                path.display(),
                crate::error::io_desc(&e)
            ));
        }
        // SAFETY: loading a library runs its initialisers; the PAL is trusted code the
        // container's configuration names, exactly as with the original rune.
        let lib = unsafe { Library::open(Some(from), RTLD_NOW | RTLD_LOCAL) }
            .map_err(|e| err!(Enclave, "load enclave runtime {}: {}", path.display(), e))?;
        let version = match optional::<FnVersion>(&lib, "pal_get_version") {
            // SAFETY: pal_get_version takes nothing and returns an int.
            Some(f) => unsafe { f() },
            None => 1,
        };
        if version < MIN_VERSION as i32 || version > MAX_VERSION as i32 {
            return Err(err!(
                Enclave,
                "enclave runtime {}: PAL API version {} is not supported (rune supports versions {} to {})",
                path.display(),
                version,
                MIN_VERSION,
                MAX_VERSION
            ));
        }
        let version = version as u32;
        let entry = match version {
            1 => Entry::V1 {
                init: required(&lib, path, "pal_init", version)?,
                exec: required(&lib, path, "pal_exec", version)?,
            },
            2 => Entry::V2 {
                init: required(&lib, path, "pal_init", version)?,
                create: required(&lib, path, "pal_create_process", version)?,
                exec: required(&lib, path, "pal_exec", version)?,
                kill: required(&lib, path, "pal_kill", version)?,
            },
            _ => Entry::V3 {
                init: required(&lib, path, "pal_init", version)?,
                create: required(&lib, path, "pal_create_process", version)?,
                exec: required(&lib, path, "pal_exec", version)?,
                kill: required(&lib, path, "pal_kill", version)?,
                report: required(&lib, path, "pal_get_local_report", version)?,
            },
        };
        let destroy = required(&lib, path, "pal_destroy", version)?;
        let convention =
            Convention::detect(|name| optional::<FnVersion>(&lib, name).is_some(), exit);
        Ok(Pal {
            path: path.to_path_buf(),
            version,
            convention,
            entry,
            destroy,
            life: std::sync::Mutex::new(Life::Loaded),
            _lib: lib,
        })
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn convention(&self) -> Convention {
        self.convention
    }
}

fn optional<T: Copy>(lib: &Library, name: &str) -> Option<T> {
    // SAFETY: the symbol's type is the PAL API's prototype for this name.
    unsafe { lib.get::<T>(name.as_bytes()).ok().map(|s: Symbol<T>| *s) }
}

fn required<T: Copy>(lib: &Library, path: &Path, name: &str, version: u32) -> Result<T> {
    optional(lib, name).ok_or_else(|| {
        err!(
            Enclave,
            "enclave runtime {}: missing symbol {} (required by PAL API v{})",
            path.display(),
            name,
            version
        )
    })
}

/// The error of a PAL call: the call, its return value, and the errno it names. Any non-zero
/// return is a failure: -1 with errno set (Occlum, WAMR), a negative errno (the skeleton), or a
/// positive value (WAMR's pal_init returns 1), with errno when the PAL set one.
pub(crate) fn call_error(call: &str, ret: i32, errno: i32) -> Error {
    Error::new(
        crate::ErrorKind::Enclave,
        format!(
            "enclave runtime: {}() failed: {}",
            call,
            failure(ret, errno).0
        ),
    )
    .with_errno(failure(ret, errno).1)
}

/// "returned R[, errno NAME (text)]" and the errno, for a failed call's return and errno.
pub(crate) fn failure(ret: i32, errno: i32) -> (String, Option<i32>) {
    // -1 with errno set is Occlum's and WAMR's way; -1 alone is the skeleton's -EPERM.
    let (code, from_errno) = if ret < 0 && (ret != -1 || errno == 0) {
        (-ret, false)
    } else if errno != 0 {
        (errno, true)
    } else {
        (0, false)
    };
    let detail = match (code, from_errno) {
        (0, _) => String::new(),
        (c, true) => format!(
            ", errno {} ({})",
            errno_name(c),
            crate::error::errno_desc(c)
        ),
        (c, false) => format!(" ({}: {})", errno_name(c), crate::error::errno_desc(c)),
    };
    (
        format!("returned {}{}", ret, detail),
        (code != 0).then_some(code),
    )
}

pub(crate) fn errno_name(e: i32) -> &'static str {
    match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::ENOEXEC => "ENOEXEC",
        libc::ECHILD => "ECHILD",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::ENOSYS => "ENOSYS",
        libc::ENOTSUP => "ENOTSUP",
        _ => "errno",
    }
}

impl Drop for Pal {
    /// An initialised enclave is torn down when its Pal goes (an init failing after pal_init).
    fn drop(&mut self) {
        let _ = self.destroy();
    }
}

#[cfg(test)]
mod destroy_once_tests;
