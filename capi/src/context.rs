//! `rune_context_t`: the state root, the init binary and the log callback, shared by every
//! container handle made through it.

use crate::child::{Children, Until};
use crate::error::{rune_error_t, rune_result_t, Error, Result};
use crate::handle::{self, Opaque};
use crate::init_binary::{self, Env};
use crate::log::{self, rune_log_callback_t, rune_log_level_t, Sink};
use crate::panic::{boundary, or_default};
use crate::string;
use rune_core::store::Store;
use rune_core::Container;
use std::ffi::{c_char, c_void};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// A librune context: where container state lives (the `--root` of the rune CLI), which rune
/// binary runs as `rune init`, and where log messages go. Opaque; made by `rune_context_new`,
/// freed by `rune_context_free`.
pub struct rune_context_t {
    _private: [u8; 0],
}

/// What a context holds; container handles keep an `Arc` of it, so they outlive the context.
pub(crate) struct Shared {
    pub store: Store,
    pub children: Children,
    settings: RwLock<Settings>,
}

struct Settings {
    init_binary: Option<PathBuf>,
    env: Env,
    log: Option<Sink>,
}

impl Opaque for rune_context_t {
    type Rust = Arc<Shared>;
    const NAME: &'static str = "rune_context_t";
}

impl Shared {
    /// Deletes container `id` of this root, then reaps its init if it is a child made
    /// through this context that has exited (`rune_container_delete`, `rune_context_delete`).
    pub(crate) fn delete(&self, id: &str, force: bool) -> Result<()> {
        let pid = Container::load(&self.store, id)
            .ok()
            .map(|c| c.state().init_pid);
        for w in Container::delete(&self.store, id, force)? {
            self.log(rune_log_level_t::Warn, || w.to_string());
        }
        if let Some(child) = pid.and_then(|p| self.children.get(p)) {
            let _ = self.children.wait(&child, Until::Now);
        }
        self.log(rune_log_level_t::Info, || format!("container {id} deleted"));
        Ok(())
    }

    /// The rune binary to run as `rune init`, checked to be an executable file.
    pub fn init_binary(&self) -> Result<PathBuf> {
        let s = self.settings.read().unwrap_or_else(|e| e.into_inner());
        let p = init_binary::resolve(s.init_binary.as_deref(), &s.env)?;
        let sink = s.log;
        drop(s);
        log::log(sink, rune_log_level_t::Debug, || {
            format!("init binary: {}", p.display())
        });
        Ok(p)
    }

    pub fn log(&self, level: rune_log_level_t, msg: impl FnOnce() -> String) {
        let sink = self.settings.read().unwrap_or_else(|e| e.into_inner()).log;
        log::log(sink, level, msg);
    }
}

/// An absolute copy of `p` (relative paths resolve against the current directory now).
pub(crate) fn absolute(p: PathBuf) -> Result<PathBuf> {
    if p.is_absolute() {
        return Ok(p);
    }
    std::env::current_dir()
        .map(|d| d.join(&p))
        .map_err(|e| Error::from(rune_core::Error::io("get the current directory", e)))
}

/// Makes a context.
///
/// - `root`: the directory holding one state directory per container (the rune CLI's
///   `--root`); NULL means the CLI's default: `/run/rune` for root, else
///   `$XDG_RUNTIME_DIR/rune` (or `/tmp/rune-<uid>`). A relative path is made absolute against the current
///   directory now. It is created (mode 0700) by the first `rune_container_create`. Contexts
///   with the same root see the same containers, also those of the rune CLI.
/// - `ctx_out`: receives the new context; free it with `rune_context_free`.
///
/// `RUNE_INIT_BINARY` and `PATH` are read here, once (see `rune_context_set_init_binary`).
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_context_new(
    root: *const c_char,
    ctx_out: *mut *mut rune_context_t,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_context_new", err_out, || {
        handle::clear_out(ctx_out, "ctx_out")?;
        let root = if root.is_null() {
            rune_core::store::default_root()
        } else {
            absolute(string::path_arg(root, "root")?)?
        };
        let shared = Shared {
            store: Store::new(root),
            children: Children::default(),
            settings: RwLock::new(Settings {
                init_binary: None,
                env: Env::capture(),
                log: None,
            }),
        };
        handle::write_out(ctx_out, "ctx_out", handle::new(Arc::new(shared)))
    })
}

/// Sets the rune binary that runs as `rune init` (the process that sets up each container and
/// exec'd process) for containers of this context.
///
/// Without it librune uses `$RUNE_INIT_BINARY` (as read by `rune_context_new`), else
/// `<libdir>/../libexec/rune/rune` beside the loaded librune (where `make install` puts it),
/// else `rune` on `PATH`. `path` is copied; it must name an executable file
/// (`RUNE_RESULT_NOT_FOUND` otherwise). Applies to containers made or loaded before the call too.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_context_set_init_binary(
    ctx: *mut rune_context_t,
    path: *const c_char,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_context_set_init_binary", err_out, || {
        let shared = handle::borrow(ctx)?;
        let p = absolute(string::path_arg(path, "path")?)?;
        init_binary::check(&p).map_err(|why| {
            Error::new(
                rune_result_t::NotFound,
                format!("rune init binary {}: {why}", p.display()),
            )
        })?;
        shared
            .settings
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .init_binary = Some(p);
        Ok(())
    })
}

/// Resolves the init binary as `rune_container_create` would, and returns its path in
/// `*path_out` (free it with `rune_string_free`). Fails with `RUNE_RESULT_NOT_FOUND`, and a
/// message naming every place it looked, when there is none. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_context_init_binary(
    ctx: *const rune_context_t,
    path_out: *mut *mut c_char,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_context_init_binary", err_out, || {
        handle::clear_out(path_out, "path_out")?;
        let p = handle::borrow(ctx)?.init_binary()?;
        let s = p.to_string_lossy().into_owned();
        handle::write_out(path_out, "path_out", handle::new_string(s))
    })
}

/// Deletes container `id` of the context's root (`rune delete [--force]`), as
/// `rune_container_delete` does with a handle: a created or stopped container is deleted as is;
/// a running or paused one only with `force` (it is killed first), else
/// `RUNE_RESULT_INVALID_STATE`; `RUNE_RESULT_NOT_FOUND` when there is no such container. An init
/// created through `ctx` that has exited is reaped; its exit code stays available to
/// `rune_container_wait`. Handles to the container remain valid to free. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_context_delete(
    ctx: *const rune_context_t,
    id: *const c_char,
    force: bool,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_context_delete", err_out, || {
        let shared = handle::borrow(ctx)?;
        let id = string::arg(id, "id")?;
        shared.delete(&id, force)
    })
}

/// Returns the containers under the context's root as JSON in `*json_out`, as
/// `rune list --format json` prints it (runc's format): an array of their OCI state documents
/// (ociVersion, id, pid, status, bundle, rootfs, created, annotations when there are any,
/// owner), or `null` when there is no container. Free it with `rune_string_free`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_context_list_json(
    ctx: *const rune_context_t,
    json_out: *mut *mut c_char,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_context_list_json", err_out, || {
        handle::clear_out(json_out, "json_out")?;
        let shared = handle::borrow(ctx)?;
        let json = Container::list_json(&Container::list(&shared.store)?);
        handle::write_out(json_out, "json_out", handle::new_string(json.to_string()))
    })
}

/// Sets (or, with `callback` NULL, removes) this context's log callback; see
/// `rune_log_callback_t`. It overrides the global one of `rune_set_log_callback`. `userdata` is
/// passed to the callback unchanged; it must stay valid while the callback is set. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_context_set_log_callback(
    ctx: *mut rune_context_t,
    callback: rune_log_callback_t,
    userdata: *mut c_void,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_context_set_log_callback", err_out, || {
        let shared = handle::borrow(ctx)?;
        shared
            .settings
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .log = Sink::new(callback, userdata);
        Ok(())
    })
}

/// Frees a context. Container handles made through it stay usable (they keep what they need).
/// `rune_context_free(NULL)` does nothing; a freed or foreign pointer is detected and ignored.
/// Must not run concurrently with another call using `ctx`.
#[no_mangle]
pub unsafe extern "C" fn rune_context_free(ctx: *mut rune_context_t) {
    or_default((), || {
        handle::free(ctx);
    })
}
