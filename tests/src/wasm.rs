//! WebAssembly in tests: `tool.wasm` (tests/fixtures/wasm/tool.wat, compiled by Debian's
//! wat2wasm) bound read-only into a container at [`WASM_MOUNT`], and rune's engine,
//! liberpal-wasm.so, found beside the binary under test (where `make integration` puts it).

use crate::enclave::{ensure_mount_point, repo_root, EnclaveBundle};
use crate::{assert_no_leaks, Bundle, Rune};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Where the container sees the modules.
pub const WASM_MOUNT: &str = "/wasm";
/// The test module's path in the container.
pub const TOOL: &str = "/wasm/tool.wasm";
/// The annotation that makes a plain wasm container.
pub const VARIANT: &str = "module.wasm.image/variant";

/// rune's engine beside the binary under test.
pub fn wasm_engine() -> PathBuf {
    let bin = crate::rune_bin();
    let lib = bin.parent().unwrap().join("liberpal-wasm.so");
    assert!(
        lib.is_file(),
        "{lib:?} missing: `make integration` builds it beside {bin:?} (cargo build -p rune-wasm)"
    );
    lib
}

/// The directory holding tool.wasm, compiled once per test process (into target/wasm/).
pub fn wasm_dir() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = repo_root();
        let dir = root.join("target/wasm");
        std::fs::create_dir_all(&dir).expect("mkdir target/wasm");
        let out = dir.join("tool.wasm");
        let wat = root.join("tests/fixtures/wasm/tool.wat");
        if !has_wat2wasm() {
            // The guest of tests/vm has no wabt: `make vm-test` compiled it on the host.
            let fresh = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
            assert!(
                fresh(&out).is_some() && fresh(&out) >= fresh(&wat),
                "wat2wasm (Debian's wabt) is not installed and {out:?} is missing or older than {wat:?}"
            );
            return dir;
        }
        // Written beside it and renamed: another test process may be reading it.
        let tmp = dir.join(format!("tool.wasm.tmp-{}", std::process::id()));
        let run = Command::new("wat2wasm")
            .arg(&wat)
            .arg("-o")
            .arg(&tmp)
            .stdin(Stdio::null())
            .output()
            .expect("run wat2wasm (Debian's wabt)");
        assert!(
            run.status.success(),
            "wat2wasm failed: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        std::fs::rename(&tmp, &out).expect("install tool.wasm");
        dir
    })
}

/// Bundle settings for WebAssembly.
pub trait WasmBundle {
    /// Binds the modules at [`WASM_MOUNT`] and runs `tool.wasm ARGS`.
    fn tool(&mut self, args: &[&str]) -> &mut Self;
    /// A plain wasm container: the annotation set to `variant`.
    fn wasm_variant(&mut self, variant: &str) -> &mut Self;
    /// An enclave container whose runtime is rune's engine (`enclave.type: sim`).
    fn wasm_enclave(&mut self) -> &mut Self;
}

impl WasmBundle for Bundle {
    fn tool(&mut self, args: &[&str]) -> &mut Self {
        ensure_mount_point(WASM_MOUNT);
        let mut all = vec![TOOL];
        all.extend_from_slice(args);
        self.bind(wasm_dir(), WASM_MOUNT, &["bind", "ro"])
            .args(&all)
    }

    fn wasm_variant(&mut self, variant: &str) -> &mut Self {
        self.annotation(VARIANT, variant)
    }

    fn wasm_enclave(&mut self) -> &mut Self {
        let lib = wasm_engine();
        self.enclave_type("sim").enclave_runtime_path(&lib)
    }
}

/// Starts `b`, pauses and resumes it, sends `sig` with `rune kill`, and checks that it stops
/// and that delete leaves nothing.
#[track_caller]
pub fn kill_paused_and_resumed(rune: &Rune, b: &Bundle, sig: &str) {
    let (_, pid) = rune.start_container(b);
    assert_eq!(rune.status(&b.id), "running");
    rune.cmd(["pause", b.id.as_str()]).run().assert_ok();
    assert_eq!(rune.status(&b.id), "paused");
    rune.cmd(["resume", b.id.as_str()]).run().assert_ok();
    rune.kill(&b.id, Some(sig)).assert_ok();
    assert!(rune.wait_status(&b.id, "stopped"), "not stopped by {sig}");
    rune.delete(&b.id).assert_ok();
    assert_no_leaks(rune, b, Some(pid));
}

fn has_wat2wasm() -> bool {
    Command::new("wat2wasm")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
