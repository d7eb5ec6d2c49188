//! OCI hooks: run with the container state on stdin, within their timeout.

use crate::err;
use crate::error::{Error, Result};
use crate::hook_output::Captured;
use oci_spec::runtime::Hook;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The lifecycle points of config.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    Prestart,
    CreateRuntime,
    CreateContainer,
    StartContainer,
    Poststart,
    Poststop,
}

impl Point {
    pub const ALL: [Point; 6] = [
        Point::Prestart,
        Point::CreateRuntime,
        Point::CreateContainer,
        Point::StartContainer,
        Point::Poststart,
        Point::Poststop,
    ];

    /// Hooks run by the runtime on the host, rather than inside the container.
    fn in_runtime_namespace(self) -> bool {
        !matches!(self, Point::CreateContainer | Point::StartContainer)
    }

    pub fn name(self) -> &'static str {
        match self {
            Point::Prestart => "prestart",
            Point::CreateRuntime => "createRuntime",
            Point::CreateContainer => "createContainer",
            Point::StartContainer => "startContainer",
            Point::Poststart => "poststart",
            Point::Poststop => "poststop",
        }
    }

    pub fn of(self, spec: &oci_spec::runtime::Spec) -> Vec<Hook> {
        let h = match spec.hooks() {
            Some(h) => h,
            None => return Vec::new(),
        };
        #[allow(deprecated)]
        let list = match self {
            Point::Prestart => h.prestart(),
            Point::CreateRuntime => h.create_runtime(),
            Point::CreateContainer => h.create_container(),
            Point::StartContainer => h.start_container(),
            Point::Poststart => h.poststart(),
            Point::Poststop => h.poststop(),
        };
        list.clone().unwrap_or_default()
    }
}

/// Runs the hooks of one point in order; the first failure stops them and is returned.
/// Host-side hooks run in the bundle directory with rune's environment (for a hook without
/// `env`), as runc's.
pub fn run(point: Point, hooks: &[Hook], state_json: &str) -> Result<()> {
    let dir = work_dir(point, state_json);
    run_in(point, hooks, state_json, dir.as_deref(), None)
}

/// The container's own hooks (createContainer, startContainer), run by its init: in `dir`,
/// and a hook without `env` gets `env`, the container process's environment (runc's init has
/// it as its own by then).
pub fn run_in(
    point: Point,
    hooks: &[Hook],
    state_json: &str,
    dir: Option<&std::path::Path>,
    env: Option<&[String]>,
) -> Result<()> {
    for (i, h) in hooks.iter().enumerate() {
        run_one(h, state_json, dir, env).map_err(|e| named(e, point, i, h))?;
    }
    Ok(())
}

/// Runs every hook of one point, whatever fails (poststop: failures are warnings and "the
/// remaining hooks and lifecycle continue"); returns the failures.
pub fn run_all(point: Point, hooks: &[Hook], state_json: &str) -> Vec<Error> {
    if hooks.is_empty() {
        return Vec::new();
    }
    let dir = work_dir(point, state_json);
    hooks
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            run_one(h, state_json, dir.as_deref(), None)
                .err()
                .map(|e| named(e, point, i, h))
        })
        .collect()
}

/// `error running <point> hook #<i> (<path>): error running hook: <status>, stdout: ...,
/// stderr: ...`: runc 1.2's words first, then runc 1.1's ("error running hook"), which callers
/// match.
fn named(e: Error, point: Point, i: usize, h: &Hook) -> Error {
    e.context(format!(
        "error running {} hook #{} ({})",
        point.name(),
        i,
        h.path().display()
    ))
}

/// Host-side hooks run in the bundle directory, as runc's do.
fn work_dir(point: Point, state_json: &str) -> Option<std::path::PathBuf> {
    if !point.in_runtime_namespace() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(state_json).ok()?;
    let dir = std::path::PathBuf::from(v["bundle"].as_str()?);
    dir.is_dir().then_some(dir)
}

fn run_one(
    h: &Hook,
    state_json: &str,
    dir: Option<&std::path::Path>,
    default_env: Option<&[String]>,
) -> Result<()> {
    let args = h.args().clone().unwrap_or_default();
    let mut cmd = Command::new(h.path());
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    if let Some(a0) = args.first() {
        use std::os::unix::process::CommandExt;
        cmd.arg0(a0);
    }
    cmd.args(args.iter().skip(1));
    // A hook's own `env` is its whole environment; without one it inherits (runc's Go exec
    // with a nil Env), here rune's or, in the container, the process's.
    if let Some(env) = h.env().as_deref().or(default_env) {
        cmd.env_clear();
        for kv in env {
            if let Some((k, v)) = kv.split_once('=') {
                cmd.env(k, v);
            }
        }
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| Error::io("start", e))?;
    if let Some(stdin) = child.stdin.take() {
        // A hook may exit without reading its stdin: EPIPE is ignored, and must not come as a
        // SIGPIPE, which would kill a librune host that keeps it at its default.
        use std::os::fd::AsFd;
        let _ = crate::sys::fd::write_all_no_sigpipe(stdin.as_fd(), state_json.as_bytes());
    }
    let (Some(out), Some(errp)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(err!(Internal, "the hook's output pipes are missing"));
    };
    let mut output = Captured::new(out.into(), errp.into());
    let timeout = h.timeout().map(|t| Duration::from_secs(t.max(1) as u64));
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        if let Some(status) = child.try_wait().map_err(|e| Error::io("wait", e))? {
            // What is still in the pipes; a process the hook left behind may hold them open.
            let limit = Instant::now() + Duration::from_secs(1);
            output.finish(deadline.map_or(limit, |d| d.min(limit)));
            if status.success() {
                return Ok(());
            }
            // runc's phrase, which callers match.
            return Err(err!(
                Hook,
                "error running hook: {}, {}",
                status,
                output.describe()
            ));
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(err!(
                Hook,
                "error running hook: timed out after {}s",
                h.timeout().unwrap_or(0)
            ));
        }
        output.read_for(Duration::from_millis(2));
    }
}

/// Sends the seccomp notify fd with the container process state to `linux.seccomp.listenerPath`
/// (config-linux.md): `{"ociVersion", "fds": ["seccompFd"], "pid", "metadata", "state"}`.
pub fn send_seccomp_fd(
    spec: &oci_spec::runtime::Spec,
    state: serde_json::Value,
    fd: std::os::fd::OwnedFd,
) -> Result<()> {
    use std::os::fd::{AsFd, AsRawFd};
    let seccomp = spec.linux().as_ref().and_then(|l| l.seccomp().as_ref());
    let listener = match seccomp.and_then(|s| s.listener_path().as_ref()) {
        Some(p) => p,
        // A notify action without a listener: nobody to hand the fd to (runc refuses it).
        None => {
            return Err(err!(
                InvalidSpec,
                "seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath"
            ))
        }
    };
    let msg = serde_json::json!({
        "ociVersion": crate::OCI_VERSION,
        "fds": ["seccompFd"],
        "pid": state["pid"],
        "metadata": seccomp.and_then(|s| s.listener_metadata().clone()).unwrap_or_default(),
        "state": state,
    })
    .to_string();
    let sock = std::os::unix::net::UnixStream::connect(listener).map_err(|e| {
        Error::io(
            // runc's phrase, which callers match.
            format!(
                "failed to connect with seccomp agent specified in the seccomp profile ({})",
                listener.display()
            ),
            e,
        )
    })?;
    let iov = [std::io::IoSlice::new(msg.as_bytes())];
    let fds = [fd.as_raw_fd()];
    crate::sys::fdpass::send_with_fds(sock.as_fd(), &iov, &fds, libc::MSG_NOSIGNAL)
        .map_err(|e| Error::io(format!("send seccomp fd to {}", listener.display()), e))?;
    Ok(())
}
