//! Running the binary under test with captured output and a timeout.
//!
//! stdout/stderr go to files, not pipes: a detached container inherits the
//! runtime's stdio, so a pipe would never reach EOF while it lives. Reading
//! the files after the runtime exits is race-free, and [`Output::stdout_now`]
//! re-reads them to see what a still-running container wrote since.

use crate::{Output, Rune};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Write;
use std::os::unix::io::{AsRawFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long one invocation may take before it is killed (`RUNE_TEST_TIMEOUT`
/// seconds, default 20).
pub fn default_timeout() -> Duration {
    let secs = std::env::var("RUNE_TEST_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    Duration::from_secs(secs)
}

/// A command line being prepared; see [`Rune::cmd`].
pub struct Invocation<'a> {
    rune: &'a Rune,
    global: Vec<OsString>,
    args: Vec<OsString>,
    stdin: Option<Vec<u8>>,
    fds: Vec<File>,
    listen_fds: bool,
    with_root: bool,
    cwd: Option<PathBuf>,
    timeout: Duration,
    umask: Option<u32>,
    through: Vec<OsString>,
}

impl<'a> Invocation<'a> {
    pub(crate) fn new(rune: &'a Rune, args: Vec<OsString>) -> Self {
        Invocation {
            rune,
            global: Vec::new(),
            args,
            stdin: None,
            fds: Vec::new(),
            listen_fds: false,
            with_root: true,
            cwd: None,
            timeout: default_timeout(),
            umask: None,
            through: Vec::new(),
        }
    }

    /// Run the runtime with this umask (default: the test's own).
    pub fn umask(mut self, mask: u32) -> Self {
        self.umask = Some(mask);
        self
    }

    /// Global options placed before the subcommand (e.g. `--log FILE`).
    pub fn global<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.global
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Start the runtime through `prefix`, a program and its arguments that end by executing
    /// the rest of the command line (e.g. `unshare -m --propagation shared`).
    pub fn through<I, S>(mut self, prefix: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.through
            .extend(prefix.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Do not add `--root <root>` (the test passes its own form of it).
    pub fn without_root(mut self) -> Self {
        self.with_root = false;
        self
    }

    /// Feed these bytes on stdin (default: /dev/null).
    pub fn stdin(mut self, data: &[u8]) -> Self {
        self.stdin = Some(data.to_vec());
        self
    }

    /// Pass `file` to the runtime as fd 3 (then 4, ...).
    pub fn pass_fd(mut self, file: File) -> Self {
        self.fds.push(file);
        self
    }

    /// Run under systemd socket activation: `LISTEN_FDS=<passed fds>` and
    /// `LISTEN_PID=<runtime pid>`.
    pub fn listen_fds(mut self) -> Self {
        self.listen_fds = true;
        self
    }

    pub fn current_dir(mut self, dir: &Path) -> Self {
        self.cwd = Some(dir.to_path_buf());
        self
    }

    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Run to completion (or kill it after the timeout).
    pub fn run(self) -> Output {
        let (stdout_path, stderr_path) = self.rune.output_paths();
        let stdout_file = File::create(&stdout_path).expect("stdout file");
        let stderr_file = File::create(&stderr_path).expect("stderr file");

        let mut argv: Vec<OsString> = Vec::new();
        if self.with_root {
            argv.push("--root".into());
            argv.push(self.rune.root().into());
        }
        argv.extend(self.global.iter().cloned());
        argv.extend(self.args.iter().cloned());
        let cmdline = self
            .through
            .iter()
            .map(OsString::as_os_str)
            .chain(std::iter::once(self.rune.bin().as_os_str()))
            .chain(argv.iter().map(OsString::as_os_str))
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");

        assert!(
            !self.listen_fds || self.through.is_empty(),
            "listen_fds and through do not combine"
        );
        let mut cmd = if self.listen_fds {
            let script = format!(
                "LISTEN_PID=$$ LISTEN_FDS={}; export LISTEN_PID LISTEN_FDS; exec \"$0\" \"$@\"",
                self.fds.len()
            );
            let mut c = Command::new("/bin/sh");
            c.arg("-c").arg(script).arg(self.rune.bin());
            c
        } else if let Some((prog, args)) = self.through.split_first() {
            let mut c = Command::new(prog);
            c.args(args).arg(self.rune.bin());
            c
        } else {
            Command::new(self.rune.bin())
        };
        cmd.args(&argv)
            .stdout(stdout_file)
            .stderr(stderr_file)
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        if let Some(d) = &self.cwd {
            cmd.current_dir(d);
        }
        if let Some(mask) = self.umask {
            // SAFETY: umask is async-signal-safe.
            unsafe {
                cmd.pre_exec(move || {
                    libc::umask(mask as libc::mode_t);
                    Ok(())
                });
            }
        }
        if !self.fds.is_empty() {
            let raw: Vec<RawFd> = self.fds.iter().map(AsRawFd::as_raw_fd).collect();
            // SAFETY: only async-signal-safe fcntl/dup2 calls between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    let mut high = Vec::with_capacity(raw.len());
                    for fd in &raw {
                        let h = libc::fcntl(*fd, libc::F_DUPFD_CLOEXEC, 100);
                        if h < 0 {
                            return Err(std::io::Error::last_os_error());
                        }
                        high.push(h);
                    }
                    for (i, h) in high.iter().enumerate() {
                        if libc::dup2(*h, 3 + i as RawFd) < 0 {
                            return Err(std::io::Error::last_os_error());
                        }
                    }
                    Ok(())
                });
            }
        }

        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {cmdline}: {e}"));
        drop(self.fds);
        if let (Some(data), Some(mut pipe)) = (self.stdin, child.stdin.take()) {
            std::thread::spawn(move || {
                let _ = pipe.write_all(&data);
            });
        }
        let pid = child.id() as libc::pid_t;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        let mut timed_out = false;
        let status = match rx.recv_timeout(self.timeout) {
            Ok(s) => s,
            Err(_) => {
                timed_out = true;
                // SAFETY: the child is not reaped until the waiter thread's wait returns.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                rx.recv().expect("waiter thread")
            }
        }
        .expect("wait for runtime");
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
}
