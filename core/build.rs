use std::path::PathBuf;

fn main() {
    // The rune binary starts twice per container (the CLI and `rune init`): link it as a
    // fixed-address executable so the dynamic loader has no relative relocations to apply.
    println!("cargo:rustc-link-arg-bins=-no-pie");

    // `rune --version` names the commit, as runc's does (git describe; "unknown" outside git).
    let commit = std::process::Command::new("git")
        .args(["describe", "--always", "--dirty", "--long", "--tags"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=RUNE_COMMIT={}", commit);
    let git = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.git");
    for f in ["HEAD", "index"] {
        if git.join(f).exists() {
            println!("cargo:rerun-if-changed={}", git.join(f).display());
        }
    }

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
    let layout = "src/workload/enclave/pal/layout.c";
    println!("cargo:rerun-if-changed={}", layout);
    cc::Build::new()
        .file(layout)
        .include(&include)
        .define("PAL_NO_PROTOTYPES", None)
        .warnings_into_errors(true)
        .compile("rune_pal_layout");
}
