//! Sets the soname of librune.so to the ABI version N, so programs linked against `-lrune`
//! record `librune.so.N` and a future incompatible librune.so.N+1 can sit beside it.
//!
//! N is written in one place: `RUNE_ABI_VERSION` in src/version.rs (a literal there, so that
//! cbindgen puts it in rune.h). This script reads it from that file, as the Makefile does, and
//! hands it to the crate as `RUNE_SONAME_MAJOR` (a unit test checks the two agree).

use std::path::Path;

const SOURCE: &str = "src/version.rs";
const DECL: &str = "pub const RUNE_ABI_VERSION: u32 = ";

fn main() {
    let path = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join(SOURCE);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let abi: u32 = text
        .lines()
        .find_map(|l| l.strip_prefix(DECL)?.strip_suffix(';')?.parse().ok())
        .unwrap_or_else(|| panic!("{SOURCE} has no line `{DECL}<number>;`"));
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,librune.so.{abi}");
    println!("cargo:rustc-env=RUNE_SONAME_MAJOR={abi}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={SOURCE}");
}
