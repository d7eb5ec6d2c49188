//! Sets the soname of librune.so to the ABI major version, so programs linked against
//! `-lrune` record `librune.so.1` and a future incompatible librune.so.2 can sit beside it.
//! Keep the number equal to `RUNE_ABI_VERSION` in src/version.rs (a unit test checks it).

const ABI_MAJOR: u32 = 1;

fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,librune.so.{ABI_MAJOR}");
    println!("cargo:rustc-env=RUNE_SONAME_MAJOR={ABI_MAJOR}");
    println!("cargo:rerun-if-changed=build.rs");
}
