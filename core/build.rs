use std::path::PathBuf;

fn main() {
    // The rune binary starts twice per container (the CLI and `rune init`): link it as a
    // fixed-address executable so the dynamic loader has no relative relocations to apply.
    println!("cargo:rustc-link-arg-bins=-no-pie");

    // The PAL API types, generated from the header runtime authors compile against.
    let include = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../include");
    let header = include.join("pal.h");
    println!("cargo:rerun-if-changed={}", header.display());
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    bindgen::Builder::default()
        .header(header.to_string_lossy())
        .clang_arg("-DPAL_NO_PROTOTYPES")
        .allowlist_type("pal_.*")
        .allowlist_var("PAL_.*")
        .derive_default(true)
        .generate()
        .expect("generate PAL bindings from include/pal.h (needs libclang-dev)")
        .write_to_file(out.join("pal_bindings.rs"))
        .expect("write PAL bindings");

    // C's own view of the layouts, for the test that compares them with Rust's.
    let layout = "src/enclave/pal/layout.c";
    println!("cargo:rerun-if-changed={}", layout);
    cc::Build::new()
        .file(layout)
        .include(&include)
        .define("PAL_NO_PROTOTYPES", None)
        .warnings_into_errors(true)
        .compile("rune_pal_layout");
}
