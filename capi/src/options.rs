//! `rune_create_options_t`: how to create a container (the rune CLI's `create` flags).
//! Every setter copies its input; the object is only read by `rune_container_create`.

use crate::bundle;
use crate::context::absolute;
use crate::error::{rune_error_t, rune_result_t, Error, Result};
use crate::handle::{self, Opaque};
use crate::panic::{boundary, or_default};
use crate::string;
use serde_json::Value;
use std::ffi::c_char;
use std::path::PathBuf;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Options for `rune_container_create`. Opaque; made by `rune_create_options_new`, freed by
/// `rune_create_options_free`. One object may serve any number of creates, also concurrently.
pub struct rune_create_options_t {
    _private: [u8; 0],
}

/// Where the container's config comes from.
#[derive(Clone, Default)]
pub(crate) enum Source {
    #[default]
    Unset,
    Bundle(PathBuf),
    Config {
        json: Value,
        rootfs: Option<PathBuf>,
    },
}

#[derive(Clone, Default)]
pub(crate) struct CreateSettings {
    pub source: Source,
    pub pid_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub preserve_fds: i32,
    pub annotations: Vec<(String, String)>,
}

impl Opaque for rune_create_options_t {
    type Rust = RwLock<CreateSettings>;
    const NAME: &'static str = "rune_create_options_t";
}

pub(crate) fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

/// Where core finds the container's config: a bundle directory, or a config in memory (with
/// the current directory as its bundle, where a relative `root.path` resolves).
pub(crate) struct ConfigSource {
    pub bundle: PathBuf,
    pub config: Option<rune_core::oci_spec::runtime::Spec>,
}

impl CreateSettings {
    pub fn config_source(&self) -> Result<ConfigSource> {
        match &self.source {
            Source::Unset => Err(Error::invalid_argument(
                "the create options have neither a bundle nor a config \
                 (rune_create_options_set_bundle or rune_create_options_set_config_json)",
            )),
            Source::Bundle(p) => Ok(ConfigSource {
                bundle: p.clone(),
                config: None,
            }),
            Source::Config { json, rootfs } => {
                let mut json = json.clone();
                if let Some(r) = rootfs {
                    let r = absolute(r.clone())?;
                    bundle::set_root_path(&mut json, &r)?;
                }
                let spec = rune_core::spec::parse_config(json.to_string().as_bytes())?;
                let cwd = std::env::current_dir().map_err(|e| {
                    Error::new(rune_result_t::Os, format!("current directory: {e}"))
                })?;
                Ok(ConfigSource {
                    bundle: cwd,
                    config: Some(spec),
                })
            }
        }
    }
}

/// Runs `f` on the settings of `opts` (a setter's body).
fn set(
    name: &str,
    opts: *mut rune_create_options_t,
    err_out: *mut *mut rune_error_t,
    f: impl FnOnce(&mut CreateSettings) -> Result<()>,
) -> rune_result_t {
    boundary(name, err_out, || {
        let o = handle::borrow(opts as *const rune_create_options_t)?;
        f(&mut write(o))
    })
}

/// Makes an empty options object; set a bundle or a config before use. Free it with
/// `rune_create_options_free`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_create_options_new(
    opts_out: *mut *mut rune_create_options_t,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_create_options_new", err_out, || {
        handle::clear_out(opts_out, "opts_out")?;
        let o = handle::new(RwLock::new(CreateSettings::default()));
        handle::write_out(opts_out, "opts_out", o)
    })
}

/// Sets the bundle directory: `config.json` and (as its `root.path` says) the rootfs, as for
/// `rune create --bundle`. Replaces a config set by `rune_create_options_set_config_json`.
/// A relative path resolves against the current directory of the `rune_container_create` call.
/// Copied. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_create_options_set_bundle(
    opts: *mut rune_create_options_t,
    bundle: *const c_char,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    set("rune_create_options_set_bundle", opts, err_out, |s| {
        s.source = Source::Bundle(string::path_arg(bundle, "bundle")?);
        Ok(())
    })
}

/// Sets the container's config as a JSON string (the text of an OCI config.json), instead of a
/// bundle directory. Replaces a bundle set before.
///
/// - `config_json`: parsed now; `RUNE_RESULT_INVALID_SPEC` with the line and column when it
///   does not parse.
/// - `rootfs`: the root filesystem directory, which replaces the config's `root.path` (a relative
///   path resolves against the current directory of the create call); NULL keeps `root.path`,
///   which must then be absolute.
///
/// Relative paths elsewhere in the config (mount sources) resolve against a private temporary
/// bundle directory that exists only during `rune_container_create`. Both strings are copied.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_create_options_set_config_json(
    opts: *mut rune_create_options_t,
    config_json: *const c_char,
    rootfs: *const c_char,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    set("rune_create_options_set_config_json", opts, err_out, |s| {
        let json = bundle::parse_config(&string::arg(config_json, "config_json")?)?;
        let rootfs = if rootfs.is_null() {
            None
        } else {
            Some(string::path_arg(rootfs, "rootfs")?)
        };
        s.source = Source::Config { json, rootfs };
        Ok(())
    })
}

/// Writes the container init's pid to this file once created (`--pid-file`). Copied.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_create_options_set_pid_file(
    opts: *mut rune_create_options_t,
    path: *const c_char,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    set("rune_create_options_set_pid_file", opts, err_out, |s| {
        s.pid_file = Some(string::path_arg(path, "path")?);
        Ok(())
    })
}

/// Sends the pty master of a `process.terminal` container to this unix socket
/// (`--console-socket`). Required when the config asks for a terminal. Copied. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_create_options_set_console_socket(
    opts: *mut rune_create_options_t,
    path: *const c_char,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    set(
        "rune_create_options_set_console_socket",
        opts,
        err_out,
        |s| {
            s.console_socket = Some(string::path_arg(path, "path")?);
            Ok(())
        },
    )
}

/// Uses chroot-like `MS_MOVE` instead of pivot_root (`--no-pivot`). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_create_options_set_no_pivot(
    opts: *mut rune_create_options_t,
    no_pivot: bool,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    set("rune_create_options_set_no_pivot", opts, err_out, |s| {
        s.no_pivot = no_pivot;
        Ok(())
    })
}

/// Does not create a session keyring for the container (`--no-new-keyring`). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_create_options_set_no_new_keyring(
    opts: *mut rune_create_options_t,
    no_new_keyring: bool,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    set(
        "rune_create_options_set_no_new_keyring",
        opts,
        err_out,
        |s| {
            s.no_new_keyring = no_new_keyring;
            Ok(())
        },
    )
}

/// Passes the caller's fds 3 .. 3+n-1 to the container process (`--preserve-fds`).
/// `RUNE_RESULT_INVALID_ARGUMENT` above 65536. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_create_options_set_preserve_fds(
    opts: *mut rune_create_options_t,
    n: u32,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    set("rune_create_options_set_preserve_fds", opts, err_out, |s| {
        s.preserve_fds = preserve_fds(n)?;
        Ok(())
    })
}

pub(crate) fn preserve_fds(n: u32) -> Result<i32> {
    if n > 65536 {
        return Err(Error::new(
            rune_result_t::InvalidArgument,
            format!("preserve_fds {n} is too large (at most 65536)"),
        ));
    }
    Ok(n as i32)
}

/// Frees an options object. NULL does nothing; a freed or foreign pointer is detected and
/// ignored. Must not run concurrently with another call using `opts`.
#[no_mangle]
pub unsafe extern "C" fn rune_create_options_free(opts: *mut rune_create_options_t) {
    or_default((), || {
        handle::free(opts);
    })
}

/// Adds an annotation to the container's config (replacing one of the same key in config.json).
/// Copied. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_create_options_set_annotation(
    opts: *mut rune_create_options_t,
    key: *const c_char,
    value: *const c_char,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    set("rune_create_options_set_annotation", opts, err_out, |o| {
        let k = string::arg(key, "key")?;
        if k.is_empty() {
            return Err(Error::invalid_argument("an annotation key cannot be empty"));
        }
        let v = string::arg(value, "value")?;
        o.annotations.retain(|(x, _)| *x != k);
        o.annotations.push((k, v));
        Ok(())
    })
}

/// Makes the container an enclave container: sets the `enclave.type` (`intelSgx`,
/// `awsNitroEnclaves`, `jailhouse` or `sim`), `enclave.runtime.path` (the PAL library, a host
/// path) and, when not NULL, `enclave.runtime.args` (comma-separated) and
/// `enclave.runtime.loglevel` annotations. The type is checked when the container is created.
/// Copied. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_create_options_set_enclave(
    opts: *mut rune_create_options_t,
    enclave_type: *const c_char,
    runtime_path: *const c_char,
    runtime_args: *const c_char,
    log_level: *const c_char,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    set("rune_create_options_set_enclave", opts, err_out, |o| {
        let mut add = vec![
            (
                "enclave.type".to_string(),
                string::arg(enclave_type, "enclave_type")?,
            ),
            (
                "enclave.runtime.path".to_string(),
                string::arg(runtime_path, "runtime_path")?,
            ),
        ];
        if !runtime_args.is_null() {
            add.push((
                "enclave.runtime.args".into(),
                string::arg(runtime_args, "runtime_args")?,
            ));
        }
        if !log_level.is_null() {
            add.push((
                "enclave.runtime.loglevel".into(),
                string::arg(log_level, "log_level")?,
            ));
        }
        for (k, v) in add {
            o.annotations.retain(|(x, _)| *x != k);
            o.annotations.push((k, v));
        }
        Ok(())
    })
}
