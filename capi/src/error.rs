//! Result codes and error objects: the one place where a `rune_core::ErrorKind` becomes a C
//! result code ([`map_kind`]), and the `rune_error_t` accessors.

use crate::handle::{self, Opaque};
use crate::panic::or_default;
use rune_core::ErrorKind;
use std::ffi::{c_char, CString};

/// The result of every fallible librune call.
///
/// The numbers are part of the ABI: they are never renumbered and never reused. New codes are
/// added at the end; a retired code keeps its number, marked reserved. Treat an unknown code
/// like `RUNE_RESULT_INTERNAL`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum rune_result {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullParameter = 1,
    /// A string argument was not valid UTF-8.
    InvalidUtf8 = 2,
    /// An argument was refused: a container id, a signal, an option value.
    InvalidArgument = 3,
    /// The config (config.json or a process JSON) is malformed or violates the runtime spec.
    InvalidSpec = 4,
    /// The container, bundle, rootfs or another needed file does not exist.
    NotFound = 5,
    /// A container with this id exists already.
    AlreadyExists = 6,
    /// The call is not valid in the container's current status (or the object's state).
    InvalidState = 7,
    /// The operating system or a policy refused the operation (EPERM, EACCES).
    PermissionDenied = 8,
    /// A system call failed: `rune_error_errno` says which error.
    Os = 9,
    /// The enclave runtime (PAL) failed.
    Enclave = 10,
    /// A bug or an unexpected state inside rune.
    Internal = 11,
    /// librune panicked; the panic was caught at the C boundary. The process may go on, but
    /// the object the call was working on may be left half-updated.
    Panic = 12,
    /// A handle argument is not a live handle of the expected type: freed already, or not made
    /// by librune.
    InvalidHandle = 13,
    /// A hook of the config failed or timed out; the message has its exit status and output.
    Hook = 14,
}

/// The result type of librune calls (see `rune_result`).
pub type rune_result_t = rune_result;

/// The single mapping from core's error kinds to C result codes.
pub(crate) fn map_kind(kind: ErrorKind) -> rune_result_t {
    match kind {
        ErrorKind::NotFound => rune_result_t::NotFound,
        ErrorKind::AlreadyExists => rune_result_t::AlreadyExists,
        ErrorKind::InvalidState => rune_result_t::InvalidState,
        ErrorKind::InvalidSpec => rune_result_t::InvalidSpec,
        ErrorKind::InvalidArgument => rune_result_t::InvalidArgument,
        ErrorKind::PermissionDenied => rune_result_t::PermissionDenied,
        ErrorKind::Os => rune_result_t::Os,
        ErrorKind::Enclave => rune_result_t::Enclave,
        ErrorKind::Hook => rune_result_t::Hook,
        ErrorKind::Internal => rune_result_t::Internal,
    }
}

/// The name of a result code, as in the header.
pub(crate) fn result_name(code: i32) -> &'static str {
    const NAMES: [&str; 15] = [
        "RUNE_RESULT_OK\0",
        "RUNE_RESULT_NULL_PARAMETER\0",
        "RUNE_RESULT_INVALID_UTF8\0",
        "RUNE_RESULT_INVALID_ARGUMENT\0",
        "RUNE_RESULT_INVALID_SPEC\0",
        "RUNE_RESULT_NOT_FOUND\0",
        "RUNE_RESULT_ALREADY_EXISTS\0",
        "RUNE_RESULT_INVALID_STATE\0",
        "RUNE_RESULT_PERMISSION_DENIED\0",
        "RUNE_RESULT_OS\0",
        "RUNE_RESULT_ENCLAVE\0",
        "RUNE_RESULT_INTERNAL\0",
        "RUNE_RESULT_PANIC\0",
        "RUNE_RESULT_INVALID_HANDLE\0",
        "RUNE_RESULT_HOOK\0",
    ];
    usize::try_from(code)
        .ok()
        .and_then(|i| NAMES.get(i).copied())
        .unwrap_or("RUNE_RESULT_UNKNOWN\0")
}

/// An error inside librune before it crosses to C.
#[derive(Debug, Clone)]
pub(crate) struct Error {
    pub code: rune_result_t,
    pub errno: i32,
    pub msg: String,
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: rune_result_t, msg: impl Into<String>) -> Error {
        Error {
            code,
            errno: 0,
            msg: msg.into(),
        }
    }

    pub fn null(what: &str) -> Error {
        Error::new(rune_result_t::NullParameter, format!("{what} is NULL"))
    }

    pub fn invalid_argument(msg: impl Into<String>) -> Error {
        Error::new(rune_result_t::InvalidArgument, msg)
    }

    pub fn context(mut self, what: impl std::fmt::Display) -> Error {
        self.msg = format!("{what}: {}", self.msg);
        self
    }
}

impl From<rune_core::Error> for Error {
    fn from(e: rune_core::Error) -> Error {
        Error {
            code: map_kind(e.kind()),
            errno: e.errno().unwrap_or(0),
            msg: e.message().to_string(),
        }
    }
}

/// An error object: a result code, the errno (0 when none) and a message naming the cause.
/// Made by librune, freed by the caller with `rune_error_free`.
pub struct rune_error_t {
    _private: [u8; 0],
}

pub(crate) struct ErrorData {
    code: rune_result_t,
    errno: i32,
    message: CString,
}

impl Opaque for rune_error_t {
    type Rust = ErrorData;
    const NAME: &'static str = "rune_error_t";
}

/// Hands an error to C as a new `rune_error_t`.
pub(crate) fn into_handle(e: Error) -> *mut rune_error_t {
    let message = CString::new(e.msg.replace('\0', "\\0")).unwrap_or_default();
    handle::new::<rune_error_t>(ErrorData {
        code: e.code,
        errno: e.errno,
        message,
    })
}

/// The result code of an error.
///
/// Returns `RUNE_RESULT_NULL_PARAMETER` when `err` is NULL and `RUNE_RESULT_INVALID_HANDLE` when
/// it is not a live error. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_error_code(err: *const rune_error_t) -> rune_result_t {
    or_default(rune_result_t::Panic, || match handle::borrow(err) {
        Ok(e) => e.code,
        Err(e) => e.code,
    })
}

/// The errno of the failed system call behind an error, or 0 when there is none.
///
/// Returns 0 when `err` is NULL or not a live error. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_error_errno(err: *const rune_error_t) -> i32 {
    or_default(0, || handle::borrow(err).map(|e| e.errno).unwrap_or(0))
}

/// The message of an error: what failed and why, e.g. `container "c1" does not exist`.
///
/// The string belongs to `err` and stays valid until `rune_error_free(err)`; do not free it.
/// Never returns NULL: for a NULL or dead `err` it returns a static string saying so.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_error_message(err: *const rune_error_t) -> *const c_char {
    or_default(
        c"(panic in rune_error_message)".as_ptr(),
        || match handle::borrow(err) {
            Ok(e) => e.message.as_ptr(),
            Err(e) if e.code == rune_result_t::NullParameter => c"(NULL rune_error_t)".as_ptr(),
            Err(_) => c"(invalid rune_error_t: freed, or not made by librune)".as_ptr(),
        },
    )
}

/// Frees an error. `rune_error_free(NULL)` does nothing, and so does a second free of the same
/// error (it is detected and ignored). Must not run concurrently with other uses of `err`.
#[no_mangle]
pub unsafe extern "C" fn rune_error_free(err: *mut rune_error_t) {
    or_default((), || {
        handle::free(err);
    })
}

/// The name of a result code (`"RUNE_RESULT_NOT_FOUND"`), or `"RUNE_RESULT_UNKNOWN"`.
///
/// `code` is a `rune_result_t` value (an int, so that unknown values are safe to pass).
/// The string is static: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn rune_result_name(code: i32) -> *const c_char {
    or_default(c"RUNE_RESULT_UNKNOWN".as_ptr(), || {
        result_name(code).as_ptr().cast()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_code() {
        let kinds: Vec<ErrorKind> = ErrorKind::all().collect();
        let codes: std::collections::HashSet<i32> =
            kinds.iter().map(|k| map_kind(*k) as i32).collect();
        // Each kind a code of its own (Internal only for Internal), none of them Ok.
        assert_eq!(codes.len(), kinds.len(), "{kinds:?}");
        assert!(!codes.contains(&(rune_result_t::Ok as i32)));
        for k in kinds {
            assert_eq!(
                map_kind(k) == rune_result_t::Internal,
                k == ErrorKind::Internal,
                "{k:?}"
            );
        }
    }

    #[test]
    fn codes_are_stable() {
        // These numbers are ABI: this test must never be edited except to add lines.
        assert_eq!(rune_result_t::Ok as i32, 0);
        assert_eq!(rune_result_t::NullParameter as i32, 1);
        assert_eq!(rune_result_t::InvalidUtf8 as i32, 2);
        assert_eq!(rune_result_t::InvalidArgument as i32, 3);
        assert_eq!(rune_result_t::InvalidSpec as i32, 4);
        assert_eq!(rune_result_t::NotFound as i32, 5);
        assert_eq!(rune_result_t::AlreadyExists as i32, 6);
        assert_eq!(rune_result_t::InvalidState as i32, 7);
        assert_eq!(rune_result_t::PermissionDenied as i32, 8);
        assert_eq!(rune_result_t::Os as i32, 9);
        assert_eq!(rune_result_t::Enclave as i32, 10);
        assert_eq!(rune_result_t::Internal as i32, 11);
        assert_eq!(rune_result_t::Panic as i32, 12);
        assert_eq!(rune_result_t::InvalidHandle as i32, 13);
        assert_eq!(rune_result_t::Hook as i32, 14);
    }

    #[test]
    fn names_match_codes() {
        assert_eq!(result_name(5), "RUNE_RESULT_NOT_FOUND\0");
        assert_eq!(result_name(13), "RUNE_RESULT_INVALID_HANDLE\0");
        assert_eq!(result_name(14), "RUNE_RESULT_HOOK\0");
        assert_eq!(result_name(15), "RUNE_RESULT_UNKNOWN\0");
        assert_eq!(result_name(-1), "RUNE_RESULT_UNKNOWN\0");
    }

    #[test]
    fn error_objects_round_trip() {
        let e = into_handle(Error {
            code: rune_result_t::Os,
            errno: libc::EIO,
            msg: "read x: Input/output error".into(),
        });
        // SAFETY: a live error made just above, freed once at the end.
        unsafe {
            assert_eq!(rune_error_code(e), rune_result_t::Os);
            assert_eq!(rune_error_errno(e), libc::EIO);
            let m = std::ffi::CStr::from_ptr(rune_error_message(e));
            assert_eq!(m.to_str().unwrap(), "read x: Input/output error");
            rune_error_free(e);
            assert_eq!(rune_error_code(e), rune_result_t::InvalidHandle);
            rune_error_free(e);
            assert_eq!(
                rune_error_code(std::ptr::null()),
                rune_result_t::NullParameter
            );
        }
    }
}
