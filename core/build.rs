fn main() {
    // The rune binary starts twice per container (the CLI and `rune init`): link it as a
    // fixed-address executable so the dynamic loader has no relative relocations to apply.
    println!("cargo:rustc-link-arg-bins=-no-pie");
}
