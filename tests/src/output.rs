//! The captured result of one runtime invocation.

use serde_json::Value;
use std::fmt;
use std::path::PathBuf;

/// The result of one invocation.
#[derive(Clone)]
pub struct Output {
    pub cmdline: String,
    /// Exit code, `None` if killed by a signal.
    pub code: Option<i32>,
    pub signal: Option<i32>,
    /// The invocation was killed because it exceeded its timeout.
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
    pub stdout_path: PathBuf,
    pub stderr_path: PathBuf,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0) && !self.timed_out
    }

    /// Panic with the full output unless the command exited 0.
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert!(self.success(), "command failed unexpectedly:\n{self}");
        self
    }

    /// Panic unless the command exited non-zero (a timeout is not a failure exit).
    #[track_caller]
    pub fn assert_fail(&self) -> &Self {
        assert!(
            !self.timed_out && self.code.is_some_and(|c| c != 0),
            "command should have failed with a non-zero exit:\n{self}"
        );
        self
    }

    /// Asserts failure and that stderr names every one of `causes` (case-insensitive): the
    /// cause itself, not one of several words some error would have.
    #[track_caller]
    pub fn assert_fail_mentioning(&self, causes: &[&str]) -> &Self {
        self.assert_fail();
        let err = self.stderr.to_lowercase();
        let missing: Vec<&&str> = causes
            .iter()
            .filter(|c| !err.contains(&c.to_lowercase()))
            .collect();
        assert!(
            missing.is_empty(),
            "stderr should name {missing:?}:\n{self}"
        );
        self
    }

    /// The exit code; panics if the process was killed by a signal or timed out.
    #[track_caller]
    pub fn exit_code(&self) -> i32 {
        assert!(!self.timed_out, "command timed out:\n{self}");
        self.code
            .unwrap_or_else(|| panic!("command killed by a signal:\n{self}"))
    }

    /// Current contents of the stdout file (a detached container may still write).
    pub fn stdout_now(&self) -> String {
        std::fs::read_to_string(&self.stdout_path).unwrap_or_default()
    }

    pub fn stderr_now(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// stdout parsed as JSON (panics with the output if it is not JSON).
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{self}"))
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  command: {}", self.cmdline)?;
        writeln!(
            f,
            "  exit: code={:?} signal={:?} timed_out={}",
            self.code, self.signal, self.timed_out
        )?;
        writeln!(f, "  stdout: {:?}", self.stdout)?;
        write!(f, "  stderr: {:?}", self.stderr)
    }
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
