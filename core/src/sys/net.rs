//! Network interfaces: their indexes by name.

use std::ffi::CStr;

/// The index of the network interface `name` in this thread's network namespace
/// (if_nametoindex(3)), or None when there is no such interface.
pub fn if_index(name: &CStr) -> Option<u32> {
    // SAFETY: if_nametoindex reads the NUL-terminated name the reference names.
    let i = unsafe { libc::if_nametoindex(name.as_ptr()) };
    (i != 0).then_some(i)
}
