//! Versions: of the ABI (the soname's number) and of rune itself.

use crate::panic::or_default;
use std::ffi::c_char;

/// The ABI version of this header. librune's soname is `librune.so.<RUNE_ABI_VERSION>`; it
/// changes only on an incompatible change (a removed function or a changed signature). Compare
/// it with `rune_abi_version()` to check that the loaded library matches the header.
// The one place the number is written: build.rs (the soname) and the Makefile (RUNE_ABI) read
// it from this line, so keep its form `pub const RUNE_ABI_VERSION: u32 = <number>;`.
pub const RUNE_ABI_VERSION: u32 = 2;

/// rune's version, major part.
pub const RUNE_VERSION_MAJOR: u32 = 0;
/// rune's version, minor part.
pub const RUNE_VERSION_MINOR: u32 = 1;
/// rune's version, patch part.
pub const RUNE_VERSION_PATCH: u32 = 0;

static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The ABI version of the loaded librune (`RUNE_ABI_VERSION` of the header it was built with).
/// Thread-safe.
#[no_mangle]
pub extern "C" fn rune_abi_version() -> u32 {
    RUNE_ABI_VERSION
}

/// rune's version as a string ("0.1.0"). The string is static: valid for the life of the
/// program, never freed. Thread-safe.
#[no_mangle]
pub extern "C" fn rune_version() -> *const c_char {
    or_default(std::ptr::null(), || VERSION.as_ptr().cast())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_the_crate_and_the_soname() {
        assert_eq!(
            RUNE_VERSION_MAJOR.to_string(),
            env!("CARGO_PKG_VERSION_MAJOR")
        );
        assert_eq!(
            RUNE_VERSION_MINOR.to_string(),
            env!("CARGO_PKG_VERSION_MINOR")
        );
        assert_eq!(
            RUNE_VERSION_PATCH.to_string(),
            env!("CARGO_PKG_VERSION_PATCH")
        );
        assert_eq!(RUNE_ABI_VERSION.to_string(), env!("RUNE_SONAME_MAJOR"));
        // SAFETY: rune_version returns a static NUL-terminated string.
        let v = unsafe { std::ffi::CStr::from_ptr(rune_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
