//! `rune_exec_options_t`: how to run another process in a container (the rune CLI's `exec`
//! flags). Every setter copies its input.

use crate::error::{rune_error_t, rune_result_t, Error, Result};
use crate::handle::{self, Opaque};
use crate::options::{preserve_fds, write};
use crate::panic::{boundary, or_default};
use crate::string;
use rune_core::container::ProcessOverrides;
use rune_core::oci_spec::runtime::{Process, Spec};
use std::ffi::c_char;
use std::path::PathBuf;
use std::sync::RwLock;

/// Options for `rune_container_exec`. Opaque; made by `rune_exec_options_new`, freed by
/// `rune_exec_options_free`. One object may serve any number of execs, also concurrently.
pub struct rune_exec_options_t {
    _private: [u8; 0],
}

#[derive(Clone, Default)]
pub(crate) struct ExecSettings {
    /// The process JSON, checked when set and read against the container's config at exec.
    process: Option<String>,
    args: Option<Vec<String>>,
    env: Vec<String>,
    cwd: Option<String>,
    user: Option<(u32, u32)>,
    terminal: Option<bool>,
    pub console_socket: Option<PathBuf>,
    pub detach: bool,
    pub pid_file: Option<PathBuf>,
    pub preserve_fds: i32,
}

impl Opaque for rune_exec_options_t {
    type Rust = RwLock<ExecSettings>;
    const NAME: &'static str = "rune_exec_options_t";
}

impl ExecSettings {
    /// The process to run, as `rune exec` builds it: the process JSON, or the container's own
    /// process, with the args, env, cwd, user and terminal set here applied on top.
    pub fn process(&self, config: &Spec) -> Result<Process> {
        if self.process.is_none() && self.args.is_none() {
            return Err(Error::invalid_argument(
                "exec: no command (rune_exec_options_set_args or \
                 rune_exec_options_set_process_json)",
            ));
        }
        let o = ProcessOverrides {
            args: self.args.clone(),
            env: self.env.clone(),
            cwd: self.cwd.as_ref().map(Into::into),
            uid: self.user.map(|u| u.0),
            gid: self.user.map(|u| u.1),
            // Without a process JSON, no terminal unless asked for.
            terminal: match &self.process {
                None => Some(self.terminal.unwrap_or(false)),
                Some(_) => self.terminal,
            },
            ..Default::default()
        };
        let base = match &self.process {
            Some(text) => Some(rune_core::container::process_from_json(
                text.as_bytes(),
                "JSON",
                config,
            )?),
            None => None,
        };
        Ok(o.apply(base, config)?)
    }
}

fn set(
    name: &str,
    opts: *mut rune_exec_options_t,
    err_out: *mut *mut rune_error_t,
    f: impl FnOnce(&mut ExecSettings) -> Result<()>,
) -> rune_result_t {
    boundary(name, err_out, || {
        let o = handle::borrow(opts as *const rune_exec_options_t)?;
        f(&mut write(o))
    })
}

/// Makes an empty exec options object; set at least the args (or a process JSON). Free it with
/// `rune_exec_options_free`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_exec_options_new(
    opts_out: *mut *mut rune_exec_options_t,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_exec_options_new", err_out, || {
        handle::clear_out(opts_out, "opts_out")?;
        let o = handle::new(RwLock::new(ExecSettings::default()));
        handle::write_out(opts_out, "opts_out", o)
    })
}

/// Sets the command: `len` (at least 1) strings, `args[0]` the program. Copied. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_exec_options_set_args(
    opts: *mut rune_exec_options_t,
    args: *const *const c_char,
    len: usize,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    set("rune_exec_options_set_args", opts, err_out, |s| {
        if len == 0 {
            return Err(Error::invalid_argument("args is empty"));
        }
        s.args = Some(string::array_arg(args, len, "args")?);
        Ok(())
    })
}

/// Adds `len` `KEY=VALUE` strings to the process's environment (after the container's own, as
/// `rune exec --env`). Copied. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_exec_options_set_env(
    opts: *mut rune_exec_options_t,
    env: *const *const c_char,
    len: usize,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    set("rune_exec_options_set_env", opts, err_out, |s| {
        let env = string::array_arg(env, len, "env")?;
        if let Some(bad) = env.iter().find(|e| !e.contains('=') || e.starts_with('=')) {
            return Err(Error::invalid_argument(format!(
                "env entry {bad:?} is not KEY=VALUE"
            )));
        }
        s.env = env;
        Ok(())
    })
}

/// Sets the working directory, an absolute path inside the container. Copied. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_exec_options_set_cwd(
    opts: *mut rune_exec_options_t,
    cwd: *const c_char,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    set("rune_exec_options_set_cwd", opts, err_out, |s| {
        let cwd = string::arg(cwd, "cwd")?;
        if !cwd.starts_with('/') {
            return Err(Error::invalid_argument(format!(
                "cwd {cwd:?} is not an absolute path"
            )));
        }
        s.cwd = Some(cwd);
        Ok(())
    })
}

/// Runs the process as `uid`:`gid` (ids inside the container). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_exec_options_set_user(
    opts: *mut rune_exec_options_t,
    uid: u32,
    gid: u32,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    set("rune_exec_options_set_user", opts, err_out, |s| {
        s.user = Some((uid, gid));
        Ok(())
    })
}

/// Gives the process a pty (`rune exec -t`); needs a console socket to send its master to.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_exec_options_set_terminal(
    opts: *mut rune_exec_options_t,
    terminal: bool,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    set("rune_exec_options_set_terminal", opts, err_out, |s| {
        s.terminal = Some(terminal);
        Ok(())
    })
}

/// Sends the pty master to this unix socket (`--console-socket`). Copied. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_exec_options_set_console_socket(
    opts: *mut rune_exec_options_t,
    path: *const c_char,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    set("rune_exec_options_set_console_socket", opts, err_out, |s| {
        s.console_socket = Some(string::path_arg(path, "path")?);
        Ok(())
    })
}

/// Detached (`rune exec -d`): librune reaps the process itself (on a background thread) and
/// the caller must not wait for it. Not detached (the default): the process is a child of the
/// caller, who reaps it with `rune_process_wait` or its own `waitpid`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_exec_options_set_detach(
    opts: *mut rune_exec_options_t,
    detach: bool,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    set("rune_exec_options_set_detach", opts, err_out, |s| {
        s.detach = detach;
        Ok(())
    })
}

/// Writes the process's pid to this file (`--pid-file`). Copied. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_exec_options_set_pid_file(
    opts: *mut rune_exec_options_t,
    path: *const c_char,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    set("rune_exec_options_set_pid_file", opts, err_out, |s| {
        s.pid_file = Some(string::path_arg(path, "path")?);
        Ok(())
    })
}

/// Passes the caller's fds 3 .. 3+n-1 to the process (`--preserve-fds`). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_exec_options_set_preserve_fds(
    opts: *mut rune_exec_options_t,
    n: u32,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    set("rune_exec_options_set_preserve_fds", opts, err_out, |s| {
        s.preserve_fds = preserve_fds(n)?;
        Ok(())
    })
}

/// Sets the whole process as an OCI `process` JSON object (`rune exec --process`), instead of
/// starting from the container's own process. Args, env, cwd, user and terminal set by the
/// other setters still apply on top. Parsed now (`RUNE_RESULT_INVALID_SPEC` when it does not
/// parse); copied. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_exec_options_set_process_json(
    opts: *mut rune_exec_options_t,
    process_json: *const c_char,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    set("rune_exec_options_set_process_json", opts, err_out, |s| {
        let text = string::arg(process_json, "process_json")?;
        // Checked now (a missing user is the container's, filled in at exec).
        rune_core::container::process_from_json(text.as_bytes(), "JSON", &Spec::default())?;
        s.process = Some(text);
        Ok(())
    })
}

/// Frees an exec options object. NULL does nothing; a freed or foreign pointer is detected and
/// ignored. Must not run concurrently with another call using `opts`.
#[no_mangle]
pub unsafe extern "C" fn rune_exec_options_free(opts: *mut rune_exec_options_t) {
    or_default((), || {
        handle::free(opts);
    })
}
