//! Enclave runtimes: the skeleton PAL and small C fixtures (built once per
//! test process), the `enclave.*` annotations, a host trace directory mounted
//! at `/trace` in the container, and a private mount namespace that fakes an
//! SGX host (fake `/dev/sgx_*` nodes, an AESM socket) for rune.

use crate::{Bundle, Output, Rune};
use serde_json::json;
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use tempfile::TempDir;

/// One `#[test]` per PAL API version for each scenario function `name(version)`:
/// `per_pal_version!([v1 = 1, v2 = 2] a, b)` makes `a::v1`, `a::v2`, `b::v1`, `b::v2`.
#[macro_export]
macro_rules! per_pal_version {
    ($versions:tt $($name:ident),* $(,)?) => {$(
        $crate::pal_version_tests!($name $versions);
    )*};
}

/// The tests of one scenario, for [`per_pal_version!`].
#[macro_export]
macro_rules! pal_version_tests {
    ($name:ident [$($v:ident = $n:literal),*]) => {
        mod $name {
            $(
                #[test]
                fn $v() {
                    super::$name($n)
                }
            )*
        }
    };
}

/// Where the container sees the trace directory.
pub const TRACE_MOUNT: &str = "/trace";
/// The skeleton option that writes the trace where [`TraceDir::lines`] reads it.
pub const TRACE_ARG: &str = "trace=/trace/trace.log";

/// The repository root (the parent of the test package).
pub fn repo_root() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    p.canonicalize().unwrap_or(p)
}

/// Take an exclusive flock on `path` (created if needed); held while the
/// returned file lives.
fn lock_file(path: &Path) -> File {
    std::fs::create_dir_all(path.parent().unwrap()).expect("lock dir");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open lock {path:?}: {e}"));
    // SAFETY: flock on an fd we own; released when `f` is dropped.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(r, 0, "flock {path:?}: {}", std::io::Error::last_os_error());
    f
}

/// Absolute path of the skeleton enclave runtime for PAL API `version`
/// (1, 2 or 3), building the three libraries once per test process.
pub fn skeleton_lib(version: u32) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    assert!((1..=3).contains(&version), "no skeleton v{version}");
    let dir = BUILT.get_or_init(|| {
        let root = repo_root();
        let out = root.join("target/skeleton");
        let _lock = lock_file(&root.join("target/skeleton.lock"));
        let status = Command::new("make")
            .arg("-s")
            .arg("-C")
            .arg(root.join("skeleton"))
            .arg(format!("BUILD_DIR={}", out.display()))
            .arg("all")
            .stdin(Stdio::null())
            .status()
            .expect("run make for the skeleton");
        assert!(status.success(), "building the skeleton failed: {status}");
        out
    });
    let lib = dir.join(format!("liberpal-skeleton-v{version}.so"));
    assert!(lib.is_file(), "{lib:?} missing after make");
    lib
}

/// Absolute path of `tests/fixtures/<name>.c` compiled as a shared library,
/// once per test process (into `<repo>/target/fixtures/<name>.so`).
pub fn fixture_lib(name: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let map = BUILT.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = map.get(name) {
        return p.clone();
    }
    let root = repo_root();
    let src = root.join(format!("tests/fixtures/{name}.c"));
    assert!(src.is_file(), "fixture source {src:?} missing");
    let dir = root.join("target/fixtures");
    let _lock = lock_file(&dir.join(".lock"));
    let lib = dir.join(format!("{name}.so"));
    // Build beside it and rename: a container may have the old one mapped.
    let tmp = dir.join(format!("{name}.so.tmp-{}", std::process::id()));
    let out = Command::new("cc")
        .args(["-shared", "-fPIC", "-Wall", "-Werror"])
        .arg(format!("-I{}", root.join("include").display()))
        .arg("-o")
        .arg(&tmp)
        .arg(&src)
        .stdin(Stdio::null())
        .output()
        .expect("run cc");
    assert!(
        out.status.success(),
        "compiling {src:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::rename(&tmp, &lib).expect("install fixture");
    map.insert(name.to_string(), lib.clone());
    lib
}

/// A host temp dir that the container sees read-write at [`TRACE_MOUNT`].
pub struct TraceDir {
    dir: TempDir,
}

impl Default for TraceDir {
    fn default() -> Self {
        Self::new()
    }
}

impl TraceDir {
    pub fn new() -> TraceDir {
        let dir = tempfile::Builder::new()
            .prefix("rune-trace-")
            .tempdir()
            .expect("trace tempdir");
        TraceDir { dir }
    }

    /// The host side of the directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Host path of `name` in the directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The lines of `trace.log` (empty if it does not exist).
    pub fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(self.file("trace.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The call name (first word) of each trace line.
    pub fn calls(&self) -> Vec<String> {
        self.lines()
            .iter()
            .map(|l| l.split(' ').next().unwrap_or_default().to_string())
            .collect()
    }

    /// Poll until some trace line satisfies `pred`; returns it.
    pub fn wait_line(&self, mut pred: impl FnMut(&str) -> bool) -> Option<String> {
        let mut found = None;
        crate::wait_until(crate::POLL_TIMEOUT, || {
            found = self.lines().into_iter().find(|l| pred(l));
            found.is_some()
        });
        found
    }

    /// The whole trace, for assertion messages.
    pub fn dump(&self) -> String {
        self.lines().join("\n")
    }
}

/// The pid in a `pal_create_process ... -> pid=N` trace line.
pub fn created_pid(line: &str) -> Option<i32> {
    line.strip_prefix("pal_create_process ")?
        .rsplit_once(" -> pid=")?
        .1
        .trim()
        .parse()
        .ok()
}

/// The `pal_exec pid=N ...` line of process `pid`, if traced.
pub fn exec_line_of(lines: &[String], pid: i32) -> Option<String> {
    let prefix = format!("pal_exec pid={pid} ");
    lines.iter().find(|l| l.starts_with(&prefix)).cloned()
}

/// The `pal_create_process` line whose text contains `marker`, its pid, and
/// the matching `pal_exec` line. Panics with the trace if either is missing.
#[track_caller]
pub fn process_pair(lines: &[String], marker: &str) -> (String, i32, String) {
    let create = lines
        .iter()
        .find(|l| l.starts_with("pal_create_process ") && l.contains(marker))
        .unwrap_or_else(|| {
            panic!(
                "no pal_create_process with {marker:?} in trace:\n{}",
                lines.join("\n")
            )
        })
        .clone();
    let pid = created_pid(&create).unwrap_or_else(|| panic!("no pid in {create:?}"));
    let exec = exec_line_of(lines, pid)
        .unwrap_or_else(|| panic!("no pal_exec for pid {pid} in trace:\n{}", lines.join("\n")));
    (create, pid, exec)
}

/// Setting the `enclave.*` annotations of a bundle.
pub trait EnclaveBundle {
    /// Set `annotations[key] = value`.
    fn annotation(&mut self, key: &str, value: &str) -> &mut Self;
    /// Remove `annotations[key]`.
    fn remove_annotation(&mut self, key: &str) -> &mut Self;
    fn enclave_type(&mut self, typ: &str) -> &mut Self;
    fn enclave_runtime_path(&mut self, lib: &Path) -> &mut Self;
    fn enclave_runtime_args(&mut self, args: &str) -> &mut Self;
    fn enclave_loglevel(&mut self, level: &str) -> &mut Self;
    /// `enclave.type: sim` with the skeleton of PAL API `version`.
    fn skeleton(&mut self, version: u32) -> &mut Self;
    /// Bind-mount `trace` read-write at [`TRACE_MOUNT`].
    fn trace_mount(&mut self, trace: &TraceDir) -> &mut Self;
}

impl EnclaveBundle for Bundle {
    fn annotation(&mut self, key: &str, value: &str) -> &mut Self {
        let ptr = format!("/annotations/{}", key.replace('~', "~0").replace('/', "~1"));
        self.set(&ptr, json!(value))
    }

    fn remove_annotation(&mut self, key: &str) -> &mut Self {
        if let Some(m) = self.spec["annotations"].as_object_mut() {
            m.remove(key);
        }
        self
    }

    fn enclave_type(&mut self, typ: &str) -> &mut Self {
        self.annotation("enclave.type", typ)
    }

    fn enclave_runtime_path(&mut self, lib: &Path) -> &mut Self {
        self.annotation("enclave.runtime.path", lib.to_str().unwrap())
    }

    fn enclave_runtime_args(&mut self, args: &str) -> &mut Self {
        self.annotation("enclave.runtime.args", args)
    }

    fn enclave_loglevel(&mut self, level: &str) -> &mut Self {
        self.annotation("enclave.runtime.loglevel", level)
    }

    fn skeleton(&mut self, version: u32) -> &mut Self {
        let lib = skeleton_lib(version);
        self.enclave_type("sim").enclave_runtime_path(&lib)
    }

    fn trace_mount(&mut self, trace: &TraceDir) -> &mut Self {
        ensure_mount_point(TRACE_MOUNT);
        self.bind(trace.path(), TRACE_MOUNT, &["bind", "rw"])
    }
}

/// Create `dest` (absolute, inside the container) in the shared rootfs, so
/// that tests do not depend on the runtime creating mount points there.
pub fn ensure_mount_point(dest: &str) {
    let p = crate::rootfs().join(dest.trim_start_matches('/'));
    std::fs::create_dir_all(&p).unwrap_or_else(|e| panic!("mkdir {p:?}: {e}"));
}

/// A bundle running the skeleton v`version` (`enclave.type: sim`) with
/// `args = trace=/trace/trace.log`, log level `info`, and its trace dir.
pub fn skeleton_bundle(prefix: &str, version: u32) -> (Bundle, TraceDir) {
    let trace = TraceDir::new();
    let mut b = Bundle::new(prefix);
    b.skeleton(version)
        .enclave_runtime_args(TRACE_ARG)
        .enclave_loglevel("info")
        .trace_mount(&trace);
    (b, trace)
}

/// `run --bundle B ID` with `input` on stdin.
pub fn run_with_stdin(rune: &Rune, b: &Bundle, input: &[u8]) -> Output {
    b.write();
    rune.track(&b.id);
    rune.cmd([
        OsStr::new("run"),
        OsStr::new("--bundle"),
        b.path().as_os_str(),
        OsStr::new(&b.id),
    ])
    .stdin(input)
    .run()
}

/// The raw bytes a command wrote to stdout (which may not be UTF-8).
pub fn stdout_bytes(out: &Output) -> Vec<u8> {
    std::fs::read(&out.stdout_path).unwrap_or_default()
}

/// Assert a failed command's stderr contains every one of `all` and at
/// least one of each group in `any` (case-insensitive).
#[track_caller]
pub fn assert_fail_with(out: &Output, all: &[&str], any: &[&[&str]]) {
    out.assert_fail();
    let err = out.stderr.to_lowercase();
    for k in all {
        assert!(
            err.contains(&k.to_lowercase()),
            "stderr should mention {k:?}:\n{out}"
        );
    }
    for group in any {
        assert!(
            group.iter().any(|k| err.contains(&k.to_lowercase())),
            "stderr should mention one of {group:?}:\n{out}"
        );
    }
}

/// A cheap content fingerprint of a file: (length, FNV-1a-64).
pub fn file_fingerprint(path: &Path) -> (u64, u64) {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("read {path:?}: {e}"));
    (data.len() as u64, fnv1a(0xcbf2_9ce4_8422_2325, &data))
}

/// FNV-1a-64 of `data` continuing from hash `h`.
pub fn fnv1a(h: u64, data: &[u8]) -> u64 {
    data.iter()
        .fold(h, |h, b| (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// What the fake SGX host provides: char device nodes under `/dev` (name
/// relative to `/dev`, major, minor) and whether `/run/aesmd/aesm.socket`
/// exists.
#[derive(Clone, Debug)]
pub struct FakeSgx {
    pub nodes: Vec<(String, u32, u32)>,
    pub aesm: bool,
}

impl FakeSgx {
    /// `/dev/sgx_enclave` and `/dev/sgx_provision` as char 1:3 (they open
    /// like /dev/null), and the AESM socket.
    pub fn like_null() -> FakeSgx {
        FakeSgx {
            nodes: vec![("sgx_enclave".into(), 1, 3), ("sgx_provision".into(), 1, 3)],
            aesm: true,
        }
    }

    /// A host without any SGX node or AESM.
    pub fn none() -> FakeSgx {
        FakeSgx {
            nodes: Vec::new(),
            aesm: false,
        }
    }

    /// The shell script that builds this host's `/dev` and `/run`, then
    /// execs `"$@"`.
    fn script(&self) -> String {
        let mut s = String::from(
            "set -e\n\
             mount -t tmpfs -o nosuid,mode=755 tmpfs /dev\n\
             mknod -m 666 /dev/null c 1 3\n\
             mknod -m 666 /dev/zero c 1 5\n\
             mknod -m 666 /dev/full c 1 7\n\
             mknod -m 666 /dev/random c 1 8\n\
             mknod -m 666 /dev/urandom c 1 9\n\
             mknod -m 666 /dev/tty c 5 0\n\
             mkdir -m 755 /dev/pts\n\
             mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts\n\
             ln -s pts/ptmx /dev/ptmx\n\
             mkdir -m 1777 /dev/shm\n\
             mount -t tmpfs -o nosuid,nodev,mode=1777 shm /dev/shm\n\
             ln -s /proc/self/fd /dev/fd\n\
             ln -s /proc/self/fd/0 /dev/stdin\n\
             ln -s /proc/self/fd/1 /dev/stdout\n\
             ln -s /proc/self/fd/2 /dev/stderr\n",
        );
        for (name, major, minor) in &self.nodes {
            s.push_str(&format!(
                "mkdir -p \"$(dirname /dev/{name})\"\nmknod -m 666 /dev/{name} c {major} {minor}\n"
            ));
        }
        s.push_str("mount -t tmpfs -o nosuid,nodev,mode=755 tmpfs /run\n");
        if self.aesm {
            s.push_str("mkdir -p /run/aesmd\n: > /run/aesmd/aesm.socket\n");
        }
        s.push_str("exec \"$@\"\n");
        s
    }
}

/// Run `rune --root <root> <args...>` in a private mount namespace whose
/// `/dev` and `/run` are what `sgx` describes (the host's stay untouched).
pub fn run_on_fake_sgx_host<S: AsRef<OsStr>>(rune: &Rune, sgx: &FakeSgx, args: &[S]) -> Output {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let n = SEQ.fetch_add(1, Ordering::SeqCst);
    let stdout_path = rune.scratch().join(format!("fakesgx-{n}.stdout"));
    let stderr_path = rune.scratch().join(format!("fakesgx-{n}.stderr"));
    let mut argv: Vec<OsString> = vec![
        "--mount".into(),
        "--propagation".into(),
        "private".into(),
        "sh".into(),
        "-c".into(),
        sgx.script().into(),
        "fake-sgx-host".into(),
        rune.bin().into(),
        "--root".into(),
        rune.root().into(),
    ];
    argv.extend(args.iter().map(|a| a.as_ref().to_owned()));
    let cmdline = format!("unshare {}", shell_words(&argv));
    let mut child = Command::new("unshare")
        .args(&argv)
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).expect("stdout file"))
        .stderr(File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot spawn {cmdline}: {e}"));
    let deadline = std::time::Instant::now() + crate::default_timeout() + Duration::from_secs(10);
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for unshare") {
            break s;
        }
        if std::time::Instant::now() >= deadline {
            timed_out = true;
            let _ = child.kill();
            break child.wait().expect("wait for unshare");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    use std::os::unix::process::ExitStatusExt;
    Output {
        cmdline,
        code: status.code(),
        signal: status.signal(),
        timed_out,
        stdout: std::fs::read_to_string(&stdout_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&stderr_path).unwrap_or_default(),
        stdout_path,
        stderr_path,
    }
}

fn shell_words(argv: &[OsString]) -> String {
    argv.iter()
        .map(|a| {
            let s = a.to_string_lossy();
            if s.contains(['\n', ' ']) {
                format!("'{}'", s.replace('\n', "; "))
            } else {
                s.into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_trace_lines() {
        let l = "pal_create_process path=/bin/echo argv=[echo,hi] stdio=0,1,2 -> pid=123";
        assert_eq!(created_pid(l), Some(123));
        assert_eq!(created_pid("pal_exec pid=1 -> exit=0"), None);
        let lines: Vec<String> = vec![
            l.into(),
            "pal_exec pid=12 -> exit=1".into(),
            "pal_exec pid=123 -> exit=0".into(),
        ];
        assert_eq!(
            exec_line_of(&lines, 123).as_deref(),
            Some("pal_exec pid=123 -> exit=0")
        );
        let (_, pid, exec) = process_pair(&lines, "argv=[echo,hi]");
        assert_eq!((pid, exec.as_str()), (123, "pal_exec pid=123 -> exit=0"));
    }

    #[test]
    fn fnv_matches_reference() {
        assert_eq!(fnv1a(0xcbf2_9ce4_8422_2325, b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(0xcbf2_9ce4_8422_2325, b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
