//! [`Rune`]: the runtime under test with a per-test `--root`, and helpers
//! for its subcommands.

use crate::{Bundle, Invocation, Output};
use serde_json::Value;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tempfile::TempDir;

/// The runtime under test with its own state root. Dropping it force-deletes
/// whatever containers are left in the root and removes their test cgroups,
/// so a failed test does not leak into the next one.
pub struct Rune {
    bin: PathBuf,
    root: TempDir,
    out: TempDir,
    seq: AtomicUsize,
    ids: Mutex<Vec<String>>,
}

impl Default for Rune {
    fn default() -> Self {
        Self::new()
    }
}

impl Rune {
    pub fn new() -> Rune {
        Rune::with_bin(crate::rune_bin())
    }

    /// The runtime at `bin` (e.g. a copy of the binary under test somewhere else).
    pub fn with_bin(bin: PathBuf) -> Rune {
        let root = tempfile::Builder::new()
            .prefix("rune-root-")
            .tempdir()
            .expect("root tempdir");
        let out = tempfile::Builder::new()
            .prefix("rune-out-")
            .tempdir()
            .expect("output tempdir");
        assert!(
            bin.is_file(),
            "runtime binary {bin:?} not found: build it (`cargo build`) or set RUNE_BIN"
        );
        Rune {
            bin,
            root,
            out,
            seq: AtomicUsize::new(0),
            ids: Mutex::new(Vec::new()),
        }
    }

    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// The `--root` state directory of this runner.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// A scratch directory that lives as long as the runner.
    pub fn scratch(&self) -> &Path {
        self.out.path()
    }

    /// The pid file `create`/`run -d` helpers use for container `id`.
    pub fn pid_file(&self, id: &str) -> PathBuf {
        self.out.path().join(format!("{id}.pid"))
    }

    /// Remember `id` for cleanup when the runner is dropped.
    pub fn track(&self, id: &str) {
        self.ids.lock().unwrap().push(id.to_string());
    }

    /// `<bin> --root <root>` as a plain std Command, for a test that sets the process up itself
    /// (pre_exec, pipes it reads while rune runs).
    pub fn command(&self) -> std::process::Command {
        let mut c = std::process::Command::new(&self.bin);
        c.arg("--root").arg(self.root());
        c
    }

    /// An invocation `<bin> --root <root> <args...>`.
    pub fn cmd<I, S>(&self, args: I) -> Invocation<'_>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Invocation::new(
            self,
            args.into_iter().map(|a| a.as_ref().to_owned()).collect(),
        )
    }

    /// Fresh stdout/stderr capture paths for one invocation.
    pub(crate) fn output_paths(&self) -> (PathBuf, PathBuf) {
        let n = self.seq.fetch_add(1, Ordering::SeqCst);
        (
            self.out.path().join(format!("{n}.stdout")),
            self.out.path().join(format!("{n}.stderr")),
        )
    }

    /// `run --bundle B ID` in the foreground.
    pub fn run(&self, b: &Bundle) -> Output {
        self.run_with(b, &[])
    }

    /// `run --bundle B ID` in the foreground, sent `sig` (`rune kill`) once it is running.
    pub fn run_killed(&self, b: &Bundle, sig: &str) -> Output {
        std::thread::scope(|s| {
            let h = s.spawn(|| self.run(b));
            assert!(
                self.wait_status(&b.id, "running"),
                "container never reached running"
            );
            self.kill(&b.id, Some(sig)).assert_ok();
            h.join().unwrap()
        })
    }

    /// `run --bundle B <extra...> ID`.
    pub fn run_with(&self, b: &Bundle, extra: &[&str]) -> Output {
        b.write();
        self.track(&b.id);
        let mut args: Vec<OsString> = vec!["run".into(), "--bundle".into(), b.path().into()];
        args.extend(extra.iter().map(OsString::from));
        args.push(b.id.clone().into());
        self.cmd(args).run()
    }

    /// `create --bundle B --pid-file <pid_file(id)> ID`.
    pub fn create(&self, b: &Bundle) -> Output {
        self.create_cmd(b).run()
    }

    /// The invocation `create` runs, to be given more (fds, a umask) before it runs.
    pub fn create_cmd(&self, b: &Bundle) -> Invocation<'_> {
        b.write();
        self.track(&b.id);
        let pid_file = self.pid_file(&b.id);
        self.cmd([
            OsStr::new("create"),
            OsStr::new("--bundle"),
            b.path().as_os_str(),
            OsStr::new("--pid-file"),
            pid_file.as_os_str(),
            OsStr::new(&b.id),
        ])
    }

    /// `create`, asserting success; returns the init pid from the pid file.
    #[track_caller]
    pub fn create_ok(&self, b: &Bundle) -> (Output, i32) {
        let out = self.create(b);
        out.assert_ok();
        let pid = crate::read_pid_file(&self.pid_file(&b.id));
        (out, pid)
    }

    /// `create` + `start`, asserting both succeed; returns the create output
    /// (whose stdout file receives the container's output) and the init pid.
    #[track_caller]
    pub fn start_container(&self, b: &Bundle) -> (Output, i32) {
        let (out, pid) = self.create_ok(b);
        self.start(&b.id).assert_ok();
        (out, pid)
    }

    pub fn start(&self, id: &str) -> Output {
        self.cmd(["start", id]).run()
    }

    pub fn state_raw(&self, id: &str) -> Output {
        self.cmd(["state", id]).run()
    }

    /// `state ID` parsed as JSON; panics if the command fails.
    #[track_caller]
    pub fn state(&self, id: &str) -> Value {
        let out = self.state_raw(id);
        out.assert_ok();
        out.json()
    }

    /// The `status` field of `state ID`.
    #[track_caller]
    pub fn status(&self, id: &str) -> String {
        self.state(id)["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Poll `state` until the container reports `status`; false on timeout.
    pub fn wait_status(&self, id: &str, status: &str) -> bool {
        crate::wait_until(crate::POLL_TIMEOUT, || {
            let out = self.state_raw(id);
            out.success()
                && serde_json::from_str::<Value>(&out.stdout).is_ok_and(|v| v["status"] == status)
        })
    }

    /// `kill ID [SIGNAL]`.
    pub fn kill(&self, id: &str, signal: Option<&str>) -> Output {
        match signal {
            Some(s) => self.cmd(["kill", id, s]).run(),
            None => self.cmd(["kill", id]).run(),
        }
    }

    pub fn delete(&self, id: &str) -> Output {
        self.cmd(["delete", id]).run()
    }

    pub fn delete_force(&self, id: &str) -> Output {
        self.cmd(["delete", "--force", id]).run()
    }

    /// `exec ID <args...>` (args may start with exec flags).
    pub fn exec(&self, id: &str, args: &[&str]) -> Output {
        let mut v = vec!["exec"];
        let (flags, cmd): (Vec<&str>, Vec<&str>) = split_exec_flags(args);
        v.extend(flags);
        v.push(id);
        v.extend(cmd);
        self.cmd(v).run()
    }
}

/// Split `["-e", "A=b", "--", "sh"]`-style arguments: everything up to a
/// `--` separator are flags; without a separator, all are the command.
fn split_exec_flags<'a>(args: &[&'a str]) -> (Vec<&'a str>, Vec<&'a str>) {
    match args.iter().position(|a| *a == "--") {
        Some(i) => (args[..i].to_vec(), args[i + 1..].to_vec()),
        None => (Vec::new(), args.to_vec()),
    }
}

impl Drop for Rune {
    fn drop(&mut self) {
        let mut ids = self.ids.lock().map(|v| v.clone()).unwrap_or_default();
        if let Ok(rd) = std::fs::read_dir(self.root.path()) {
            for e in rd.flatten() {
                ids.push(e.file_name().to_string_lossy().into_owned());
            }
        }
        ids.sort();
        ids.dedup();
        for id in &ids {
            if self.root.path().join(id).exists() {
                let _ = self
                    .cmd(["delete", "--force", id.as_str()])
                    .timeout(Duration::from_secs(10))
                    .run();
            }
            // Anything still in the container's test cgroups (e.g. an init
            // orphaned by a runtime bug) is killed, then the cgroups removed.
            let mut dirs = crate::cgroup_dirs_for(&format!("/rune-test/{id}"));
            dirs.extend(crate::cgroup_dirs_for(&format!("rune-test/{id}")));
            for dir in dirs.iter().filter(|d| d.is_dir()) {
                kill_cgroup(dir);
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
}

/// SIGKILL every process in the cgroup directory `dir` and wait (briefly)
/// until it is empty.
fn kill_cgroup(dir: &Path) {
    let procs = |d: &Path| -> Vec<i32> {
        std::fs::read_to_string(d.join("cgroup.procs"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    };
    if procs(dir).is_empty() {
        return;
    }
    crate::wait_until(Duration::from_secs(5), || {
        let left = procs(dir);
        for pid in &left {
            // SAFETY: plain kill(2) of a pid read from the test's own cgroup.
            unsafe { libc::kill(*pid, libc::SIGKILL) };
        }
        left.is_empty()
    });
}

/// Runs `script` in the bundle's container with a fresh root; asserts that it succeeds and
/// leaves nothing behind; returns its stdout.
#[track_caller]
pub fn run_in(b: &mut Bundle, script: &str) -> String {
    let rune = Rune::new();
    b.sh(script);
    let out = rune.run(b);
    out.assert_ok();
    crate::assert_no_leaks(&rune, b, None);
    out.stdout
}
