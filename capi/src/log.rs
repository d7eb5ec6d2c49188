//! Log messages to the host: a callback per context (`rune_context_set_log_callback`) or one
//! process-wide callback set once (`rune_set_log_callback`), the only global setting librune has.
//! librune never prints.

use crate::error::{rune_error_t, rune_result_t, Error};
use crate::panic::boundary;
use std::ffi::{c_char, c_void, CString};
use std::sync::OnceLock;

/// How important a log message is.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rune_log_level {
    /// A call failed.
    Error = 1,
    /// Something went wrong that did not fail the call (a cleanup, a poststop hook).
    Warn = 2,
    /// A lifecycle event: a container created, started, killed, deleted; a process started.
    Info = 3,
    /// Details: which init binary, which temporary bundle.
    Debug = 4,
}

/// The log level type (see `rune_log_level`).
pub type rune_log_level_t = rune_log_level;

/// A log callback: `userdata` as given when it was set, the level, and the message (valid only
/// during the call; copy it to keep it). It is called on the thread that made the librune call,
/// possibly from several threads at once, so it must be thread-safe; it must not call back into
/// librune with the same handle and must not unwind (C++ exceptions, longjmp).
pub type rune_log_callback_t = Option<
    unsafe extern "C" fn(userdata: *mut c_void, level: rune_log_level_t, message: *const c_char),
>;

/// A callback and its user data.
#[derive(Clone, Copy)]
pub(crate) struct Sink {
    cb: unsafe extern "C" fn(*mut c_void, rune_log_level_t, *const c_char),
    /// The host's pointer, kept as an integer: librune never dereferences it.
    userdata: usize,
}

impl Sink {
    pub fn new(cb: rune_log_callback_t, userdata: *mut c_void) -> Option<Sink> {
        cb.map(|cb| Sink {
            cb,
            userdata: userdata as usize,
        })
    }

    fn emit(&self, level: rune_log_level_t, msg: &str) {
        let c = CString::new(msg.replace('\0', "\\0")).unwrap_or_default();
        // SAFETY: the host registered this callback for exactly this call signature.
        unsafe { (self.cb)(self.userdata as *mut c_void, level, c.as_ptr()) }
    }
}

static GLOBAL: OnceLock<Sink> = OnceLock::new();

/// Sends a message to `sink`, else to the global callback, else nowhere.
pub(crate) fn log(sink: Option<Sink>, level: rune_log_level_t, msg: impl FnOnce() -> String) {
    if let Some(s) = sink.or_else(|| GLOBAL.get().copied()) {
        s.emit(level, &msg());
    }
}

/// Sets the process-wide log callback, used by every context without its own callback.
///
/// It can be set once: a second call fails with `RUNE_RESULT_INVALID_STATE`. `callback` must
/// not be NULL; `userdata` is passed to it unchanged and may be anything (librune never reads
/// it) but must stay valid for the rest of the program. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_set_log_callback(
    callback: rune_log_callback_t,
    userdata: *mut c_void,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_set_log_callback", err_out, || {
        let sink = Sink::new(callback, userdata).ok_or_else(|| Error::null("callback"))?;
        GLOBAL.set(sink).map_err(|_| {
            Error::new(
                rune_result_t::InvalidState,
                "the global log callback is set already (it can be set once)",
            )
        })
    })
}
