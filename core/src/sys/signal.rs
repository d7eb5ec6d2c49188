//! Signals: sending them to processes, and their names as the C library gives them.

use std::io;

/// kill(2): sends signal number `sig` to `pid` (any number, realtime ones included; 0 only
/// checks that the process can be signalled).
pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill takes two integers and touches no memory of ours.
    super::at_result(unsafe { libc::kill(pid, sig) })
}

/// The C library's description of signal `sig` (strsignal(3)), e.g. "Segmentation fault".
pub fn description(sig: i32) -> String {
    // SAFETY: strsignal returns a NUL-terminated string, static or in a thread-local buffer,
    // for any number; it stays valid until the next strsignal on this thread, and is copied
    // out at once.
    let s = unsafe { std::ffi::CStr::from_ptr(libc::strsignal(sig)) };
    s.to_string_lossy().into_owned()
}
