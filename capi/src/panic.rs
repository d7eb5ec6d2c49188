//! The panic boundary: every exported function runs its body through [`boundary`] (for
//! `rune_result_t` functions) or [`or_default`] (for the others), so a Rust panic never unwinds
//! into C. A caught panic becomes `RUNE_RESULT_PANIC` with the panic message, or the function's
//! default value (NULL, 0).

use crate::error::{self, rune_error_t, rune_result_t, Error, Result};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs the body of a fallible C function named `name`.
///
/// `*err_out` (when `err_out` is not NULL) is set to NULL first, and to a new error on failure.
pub(crate) fn boundary(
    name: &str,
    err_out: *mut *mut rune_error_t,
    body: impl FnOnce() -> Result<()>,
) -> rune_result_t {
    if !err_out.is_null() {
        // SAFETY: a non-NULL err_out points to writable storage for a pointer (the contract).
        unsafe { err_out.write(std::ptr::null_mut()) };
    }
    let result = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(r) => r,
        Err(payload) => Err(Error::new(
            rune_result_t::Panic,
            format!("panic in {name}: {}", panic_message(&*payload)),
        )),
    };
    match result {
        Ok(()) => rune_result_t::Ok,
        Err(e) => {
            let code = e.code;
            if !err_out.is_null() {
                // SAFETY: as above.
                unsafe { err_out.write(error::into_handle(e)) };
            }
            code
        }
    }
}

/// Runs the body of an infallible C function; a panic returns `default`.
pub(crate) fn or_default<T>(default: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(default)
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{rune_error_code, rune_error_free, rune_error_message};

    #[test]
    fn a_panic_becomes_a_result() {
        let mut err: *mut rune_error_t = std::ptr::null_mut();
        let r = boundary("rune_test", &mut err, || panic!("boom {}", 42));
        assert_eq!(r, rune_result_t::Panic);
        assert!(!err.is_null());
        // SAFETY: err is a live error made by boundary, freed once.
        unsafe {
            assert_eq!(rune_error_code(err), rune_result_t::Panic);
            let m = std::ffi::CStr::from_ptr(rune_error_message(err));
            assert_eq!(m.to_str().unwrap(), "panic in rune_test: boom 42");
            rune_error_free(err);
        }
        assert_eq!(or_default(7, || panic!("x")), 7);
    }

    #[test]
    fn errors_and_success() {
        let r = boundary("f", std::ptr::null_mut(), || Err(Error::null("id")));
        assert_eq!(r, rune_result_t::NullParameter);
        let mut err: *mut rune_error_t = std::ptr::dangling_mut();
        assert_eq!(boundary("f", &mut err, || Ok(())), rune_result_t::Ok);
        assert!(err.is_null());
    }
}
