//! The C ABI: the PAL API v3 (`pal.rs`) and the two calls of rune's plain wasm containers
//! (`plain.rs`). Its unsafe code reads and writes what the caller's pointers point to, each block
//! with its SAFETY comment; everything else is in the safe modules and `sys.rs`.

// The C ABI: exported symbols and the caller's pointers.
#![allow(unsafe_code)]

pub mod pal;
pub mod plain;
