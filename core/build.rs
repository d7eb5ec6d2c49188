use std::path::PathBuf;

fn main() {
    // The rune binary starts twice per container (the CLI and `rune init`): link it as a
    // fixed-address executable so the dynamic loader has no relative relocations to apply.
    println!("cargo:rustc-link-arg-bins=-no-pie");
    static_startup_libs();
    // The functions a container's lifecycle runs, placed together (hot-code.ld says why;
    // scripts/hot_code.py writes it).
    let hot = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("hot-code.ld");
    println!("cargo:rerun-if-changed={}", hot.display());
    if hot.exists() {
        println!("cargo:rustc-link-arg-bin=rune=-Wl,-T,{}", hot.display());
    }

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

/// The rune binary starts twice per container, and each shared library costs its start: the
/// loader maps and relocates it, and libgcc_s's constructor probes the CPU (CPUID, which a
/// hypervisor traps). The binary takes libseccomp and the unwinder (libgcc_eh, as gcc's
/// -static-libgcc) from their static archives where the toolchain has them; the definitions
/// then stand in the executable and --as-needed drops the two libraries. librune (capi) keeps
/// linking them dynamically.
fn static_startup_libs() {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let archive = |name: &str| -> Option<PathBuf> {
        let out = std::process::Command::new(&cc)
            .arg(format!("-print-file-name={}", name))
            .output()
            .ok()?;
        let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        // Not found: the compiler prints the bare name back.
        p.is_absolute().then_some(p).filter(|p| p.exists())
    };
    let mut libs = Vec::new();
    if std::env::var_os("CARGO_FEATURE_SECCOMP").is_some() {
        libs.extend(archive("libseccomp.a"));
    }
    libs.extend(archive("libgcc_eh.a"));
    if libs.is_empty() {
        return;
    }
    let list: Vec<String> = libs.iter().map(|p| p.display().to_string()).collect();
    let names: Vec<String> = libs
        .iter()
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    // Their symbols stay the binary's own: a PAL loaded later binds to its own libseccomp.
    println!(
        "cargo:rustc-link-arg-bin=rune=-Wl,--push-state,--whole-archive,{},--pop-state,--exclude-libs,{}",
        list.join(","),
        names.join(":")
    );
}
