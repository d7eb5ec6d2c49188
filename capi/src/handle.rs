//! Handles: the only module that turns Rust values into C pointers and back
//! (`Box::into_raw` / `Box::from_raw`, `CString::into_raw` / `from_raw`).
//!
//! A handle is a `Box<Boxed<T>>` handed to C as a pointer to an opaque C type (`rune_context_t`,
//! `rune_container_t`, ...). Two checks catch a freed or foreign pointer before it is used:
//! - a table of live handles (address → C type). A lookup never touches the pointed-to memory,
//!   so a freed handle is detected without a use-after-free (which a magic number alone cannot
//!   do: reading the magic of a freed handle is itself an invalid read), and a handle of another
//!   type (a `rune_error_t *` passed as a `rune_container_t *`) is refused too;
//! - a magic number at the start of every box, checked after the table says the handle is live,
//!   against memory corruption.
//!
//! What the table cannot catch: a handle freed and its address reused by a new handle of the
//! same type, and a free racing with another call on the same handle (callers must not do that).
//! Strings returned to C (`char *` freed with `rune_string_free`) are in the table too, so a
//! double free or a foreign pointer passed to `rune_string_free` is ignored.

use crate::error::{rune_result_t, Error, Result};
use std::any::TypeId;
use std::collections::BTreeMap;
use std::ffi::{c_char, CString};
use std::sync::{Mutex, MutexGuard};

/// Implemented by each opaque C type, naming the Rust value behind it.
pub(crate) trait Opaque: 'static {
    type Rust: Send + Sync + 'static;
    /// The C type name, for error messages.
    const NAME: &'static str;
}

/// "RUNEHNDL": the first field of every live handle.
const MAGIC: u64 = 0x5255_4e45_484e_444c;
/// Written over the magic just before a handle's memory is freed.
const DEAD: u64 = 0x0dea_d0de_ad0d_ead0;

#[repr(C)]
struct Boxed<T> {
    magic: u64,
    value: T,
}

/// What a live pointer is: a handle of one C type, or a string for `rune_string_free`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Entry {
    Handle(TypeId),
    String,
}

static LIVE: Mutex<BTreeMap<usize, Entry>> = Mutex::new(BTreeMap::new());

fn live() -> MutexGuard<'static, BTreeMap<usize, Entry>> {
    // The table stays consistent even if a holder panicked: every update is one insert/remove.
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Boxes `value` and returns it as a new handle of C type `C`.
pub(crate) fn new<C: Opaque>(value: C::Rust) -> *mut C {
    let p = Box::into_raw(Box::new(Boxed {
        magic: MAGIC,
        value,
    }));
    live().insert(p as usize, Entry::Handle(TypeId::of::<C>()));
    p.cast()
}

/// Borrows the value behind a handle for the duration of a call.
///
/// NULL gives `RUNE_RESULT_NULL_PARAMETER`; a pointer that is not a live handle of type `C`
/// gives `RUNE_RESULT_INVALID_HANDLE`. The caller guarantees that no `_free` of this handle
/// runs concurrently (documented on every `_free`).
pub(crate) fn borrow<'a, C: Opaque>(p: *const C) -> Result<&'a C::Rust> {
    if p.is_null() {
        return Err(Error::null(C::NAME));
    }
    let entry = live().get(&(p as usize)).copied();
    match entry {
        Some(Entry::Handle(t)) if t == TypeId::of::<C>() => {}
        Some(_) => {
            return Err(Error::new(
                rune_result_t::InvalidHandle,
                format!("{} argument is a handle of another type", C::NAME),
            ))
        }
        None => {
            return Err(Error::new(
                rune_result_t::InvalidHandle,
                format!(
                    "{} argument is not a live handle (freed already, or not made by librune)",
                    C::NAME
                ),
            ))
        }
    }
    // SAFETY: the table says `p` came from `new::<C>` and has not been freed, so it points to a
    // live `Boxed<C::Rust>`; only shared references are ever made from it.
    let b = unsafe { &*(p as *const Boxed<C::Rust>) };
    if b.magic != MAGIC {
        return Err(Error::new(
            rune_result_t::InvalidHandle,
            format!("{} argument is corrupt (bad magic number)", C::NAME),
        ));
    }
    Ok(&b.value)
}

/// Frees a handle. NULL, a freed handle and a foreign pointer are ignored (returns false).
pub(crate) fn free<C: Opaque>(p: *mut C) -> bool {
    if p.is_null() {
        return false;
    }
    {
        let mut t = live();
        match t.get(&(p as usize)) {
            Some(Entry::Handle(id)) if *id == TypeId::of::<C>() => {
                t.remove(&(p as usize));
            }
            _ => return false,
        }
    }
    // SAFETY: the handle was live and is now out of the table, so this is the only owner.
    let mut b = unsafe { Box::from_raw(p as *mut Boxed<C::Rust>) };
    b.magic = DEAD;
    drop(b);
    true
}

/// Hands a string to C; the caller frees it with `rune_string_free`.
pub(crate) fn new_string(s: String) -> *mut c_char {
    let c = CString::new(s.replace('\0', "\\0")).unwrap_or_default();
    let p = c.into_raw();
    live().insert(p as usize, Entry::String);
    p
}

/// Frees a string made by [`new_string`]; anything else (NULL, freed, foreign) is ignored.
pub(crate) fn free_string(p: *mut c_char) -> bool {
    if p.is_null() {
        return false;
    }
    {
        let mut t = live();
        if t.get(&(p as usize)) != Some(&Entry::String) {
            return false;
        }
        t.remove(&(p as usize));
    }
    // SAFETY: `p` came from `CString::into_raw` in new_string and was live until just now.
    drop(unsafe { CString::from_raw(p) });
    true
}

/// Writes an out-parameter, refusing NULL.
pub(crate) fn write_out<T>(out: *mut T, what: &str, value: T) -> Result<()> {
    if out.is_null() {
        return Err(Error::null(what));
    }
    // SAFETY: the caller passed a non-NULL pointer to writable storage for a T (the contract of
    // every out-parameter); the old value is plain data and is overwritten without a drop.
    unsafe { out.write(value) };
    Ok(())
}

/// Checks an out-parameter up front and clears it, so that it is NULL/0 on failure.
pub(crate) fn clear_out<T: Default>(out: *mut T, what: &str) -> Result<()> {
    write_out(out, what, T::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct A {
        _p: [u8; 0],
    }
    struct B {
        _p: [u8; 0],
    }
    impl Opaque for A {
        type Rust = String;
        const NAME: &'static str = "A";
    }
    impl Opaque for B {
        type Rust = u32;
        const NAME: &'static str = "B";
    }

    #[test]
    fn live_freed_and_foreign_handles() {
        let a = new::<A>("x".into());
        assert_eq!(borrow(a).unwrap(), "x");
        let as_b = a as *const B;
        assert_eq!(borrow(as_b).unwrap_err().code, rune_result_t::InvalidHandle);
        assert!(!free(as_b as *mut B));
        assert!(free(a));
        assert_eq!(borrow(a).unwrap_err().code, rune_result_t::InvalidHandle);
        assert!(!free(a));
        assert_eq!(
            borrow::<A>(std::ptr::null()).unwrap_err().code,
            rune_result_t::NullParameter
        );
        let on_stack = 5u64;
        let foreign = &on_stack as *const u64 as *const A;
        assert_eq!(
            borrow(foreign).unwrap_err().code,
            rune_result_t::InvalidHandle
        );
    }

    #[test]
    fn strings_free_once() {
        let s = new_string("hello".into());
        assert!(free_string(s));
        assert!(!free_string(s));
        assert!(!free_string(std::ptr::null_mut()));
    }
}
