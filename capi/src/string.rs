//! Strings across the boundary: reading C string arguments (borrowed for the call, copied,
//! never retained) and freeing the strings librune returns (`rune_string_free`).

use crate::error::{rune_result_t, Error, Result};
use crate::handle;
use crate::panic::or_default;
use std::ffi::{c_char, CStr};
use std::path::PathBuf;

/// A required UTF-8 string argument named `what`, copied.
pub(crate) fn arg(p: *const c_char, what: &str) -> Result<String> {
    if p.is_null() {
        return Err(Error::null(what));
    }
    // SAFETY: a non-NULL string argument points to a NUL-terminated string that stays valid for
    // the call (the contract stated at the top of rune.h).
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    std::str::from_utf8(bytes).map(str::to_owned).map_err(|e| {
        Error::new(
            rune_result_t::InvalidUtf8,
            format!(
                "{what} is not valid UTF-8 (bad byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}

/// A path argument: a non-empty UTF-8 string.
pub(crate) fn path_arg(p: *const c_char, what: &str) -> Result<PathBuf> {
    let s = arg(p, what)?;
    if s.is_empty() {
        return Err(Error::invalid_argument(format!("{what} is empty")));
    }
    Ok(PathBuf::from(s))
}

/// An array of `len` strings (`const char *const *`), copied.
pub(crate) fn array_arg(p: *const *const c_char, len: usize, what: &str) -> Result<Vec<String>> {
    if len == 0 {
        return Ok(Vec::new());
    }
    if p.is_null() {
        return Err(Error::null(what));
    }
    // SAFETY: a non-NULL array argument points to `len` readable pointers (the contract).
    let items = unsafe { std::slice::from_raw_parts(p, len) };
    items
        .iter()
        .enumerate()
        .map(|(i, s)| arg(*s, &format!("{what}[{i}]")))
        .collect()
}

/// Frees a string returned by librune (`rune_container_state_json`,
/// `rune_context_list_json`, ...).
///
/// `rune_string_free(NULL)` does nothing; a string that librune did not return, or freed
/// already, is detected and ignored. Never pass strings owned by a handle (such as
/// `rune_error_message` or `rune_container_id`). Thread-safe for different strings.
#[no_mangle]
pub unsafe extern "C" fn rune_string_free(s: *mut c_char) {
    or_default((), || {
        handle::free_string(s);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments() {
        assert_eq!(arg(c"abc".as_ptr(), "id").unwrap(), "abc");
        assert_eq!(
            arg(std::ptr::null(), "id").unwrap_err().code,
            rune_result_t::NullParameter
        );
        let bad = [b'a', 0xff, 0xfe, 0];
        let e = arg(bad.as_ptr().cast(), "id").unwrap_err();
        assert_eq!(e.code, rune_result_t::InvalidUtf8);
        assert!(e.msg.contains("offset 1"), "{}", e.msg);
        assert_eq!(
            path_arg(c"".as_ptr(), "bundle").unwrap_err().code,
            rune_result_t::InvalidArgument
        );
        let items = [c"a".as_ptr(), c"b".as_ptr()];
        assert_eq!(array_arg(items.as_ptr(), 2, "args").unwrap(), ["a", "b"]);
        let with_null = [c"a".as_ptr(), std::ptr::null()];
        let e = array_arg(with_null.as_ptr(), 2, "args").unwrap_err();
        assert_eq!(e.msg, "args[1] is NULL");
    }
}
