//! `rune_container_t`: create, load, start, kill, delete, state, wait.

use crate::child::{self, Child, Until};
use crate::context::{rune_context_t, Shared};
use crate::error::{rune_error_t, rune_result_t, Error, Result};
use crate::handle::{self, Opaque};
use crate::log::rune_log_level_t;
use crate::options::{read, rune_create_options_t};
use crate::panic::{boundary, or_default};
use crate::string;
use rune_core::{Container, CreateOptions, Status};
use std::ffi::{c_char, CString};
use std::sync::{Arc, Mutex, MutexGuard};

/// A container. Opaque; made by `rune_container_create` or `rune_container_load`, freed by
/// `rune_container_free`. Freeing the handle does not touch the container itself.
pub struct rune_container_t {
    _private: [u8; 0],
}

/// A container's status, as in the OCI state (`rune_container_status`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rune_status {
    /// Being created (seen only by a seccomp notify listener).
    Creating = 1,
    /// Created: its init waits for `rune_container_start`.
    Created = 2,
    /// Running its process.
    Running = 3,
    /// Frozen.
    Paused = 4,
    /// Its init has exited.
    Stopped = 5,
}

/// The container status type (see `rune_status`).
pub type rune_status_t = rune_status;

pub(crate) struct ContainerHandle {
    id: CString,
    pub shared: Arc<Shared>,
    core: Mutex<Container>,
    /// The init, when this process created it (through the same context) and has not reaped it.
    child: Option<Arc<Child>>,
}

impl Opaque for rune_container_t {
    type Rust = ContainerHandle;
    const NAME: &'static str = "rune_container_t";
}

impl ContainerHandle {
    fn new(shared: Arc<Shared>, c: Container, child: Option<Arc<Child>>) -> ContainerHandle {
        ContainerHandle {
            id: CString::new(c.id()).unwrap_or_default(),
            shared,
            core: Mutex::new(c),
            child,
        }
    }

    pub fn core(&self) -> MutexGuard<'_, Container> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn id(&self) -> &str {
        self.id.to_str().unwrap_or("")
    }
}

impl Drop for ContainerHandle {
    /// Reaps the init if it has exited already, so it does not stay a zombie.
    fn drop(&mut self) {
        if let Some(c) = &self.child {
            let _ = self.shared.children.wait(c, Until::Now);
        }
    }
}

fn status_of(s: Status) -> rune_status_t {
    match s {
        Status::Creating => rune_status_t::Creating,
        Status::Created => rune_status_t::Created,
        Status::Running => rune_status_t::Running,
        Status::Paused => rune_status_t::Paused,
        Status::Stopped => rune_status_t::Stopped,
    }
}

/// Creates container `id` (letters, digits, `_+-.`) as `rune create` does, and returns a handle
/// to it in `*container_out`. Its init process is started, the container set up, and the init
/// waits for `rune_container_start`.
///
/// The init is a child of the calling process: reap it with `rune_container_wait` (deleting
/// the container or freeing the handle reaps it too once it has exited). `ctx` and `opts` are
/// only read. On failure everything created so far is removed. Thread-safe: any number of
/// creates may run at once (with different ids).
#[no_mangle]
pub unsafe extern "C" fn rune_container_create(
    ctx: *const rune_context_t,
    id: *const c_char,
    opts: *const rune_create_options_t,
    container_out: *mut *mut rune_container_t,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_container_create", err_out, || {
        handle::clear_out(container_out, "container_out")?;
        let shared = handle::borrow(ctx)?;
        let id = string::arg(id, "id")?;
        let settings = read(handle::borrow(opts)?).clone();
        rune_core::store::validate_id(&id)?;
        let init_binary = shared.init_binary()?;
        let source = settings.config_source()?;
        shared.log(rune_log_level_t::Debug, || {
            format!("create {id}: bundle {}", source.bundle.display())
        });
        let core_opts = CreateOptions {
            bundle: source.bundle.clone(),
            config: source.config.clone(),
            pid_file: settings.pid_file.clone(),
            console_socket: settings.console_socket.clone(),
            no_pivot: settings.no_pivot,
            no_new_keyring: settings.no_new_keyring,
            preserve_fds: settings.preserve_fds,
            init_binary: Some(init_binary),
            annotations: settings.annotations.clone(),
            ..Default::default()
        };
        let created = Container::create(&shared.store, &id, &core_opts)
            .map_err(|e| Error::from(e).context(format!("create container {id:?}")))?;
        for w in &created.warnings {
            shared.log(rune_log_level_t::Warn, || {
                format!("create {id}: {}", w.message())
            });
        }
        let pid = created.container.state().init_pid;
        let child = shared.children.add(pid);
        shared.log(rune_log_level_t::Info, || {
            format!("container {id} created, init pid {pid}")
        });
        let h = ContainerHandle::new(shared.clone(), created.container, Some(child));
        handle::write_out(container_out, "container_out", handle::new(h))
    })
}

/// Loads existing container `id` (made by librune or the rune CLI with the same root) into a new
/// handle in `*container_out`. `RUNE_RESULT_NOT_FOUND` when there is no such container.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_container_load(
    ctx: *const rune_context_t,
    id: *const c_char,
    container_out: *mut *mut rune_container_t,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_container_load", err_out, || {
        handle::clear_out(container_out, "container_out")?;
        let shared = handle::borrow(ctx)?;
        let id = string::arg(id, "id")?;
        let c = Container::load(&shared.store, &id)?;
        let child = shared.children.get(c.state().init_pid);
        let h = ContainerHandle::new(shared.clone(), c, child);
        handle::write_out(container_out, "container_out", handle::new(h))
    })
}

/// Starts a created container: its process runs (`rune start`). `RUNE_RESULT_INVALID_STATE`
/// unless the container is created. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_container_start(
    container: *mut rune_container_t,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_container_start", err_out, || {
        let h = handle::borrow(container as *const rune_container_t)?;
        h.core().start()?;
        h.shared.log(rune_log_level_t::Info, || {
            format!("container {} started", h.id())
        });
        Ok(())
    })
}

/// Pauses (freezes) every process of a running container: `rune pause`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_container_pause(
    container: *mut rune_container_t,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_container_pause", err_out, || {
        let h = handle::borrow(container as *const rune_container_t)?;
        h.core().pause()?;
        Ok(())
    })
}

/// Resumes a paused container: `rune resume`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_container_resume(
    container: *mut rune_container_t,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_container_resume", err_out, || {
        let h = handle::borrow(container as *const rune_container_t)?;
        h.core().resume()?;
        Ok(())
    })
}

/// Sends signal `signal` (1..SIGRTMAX) to the container's init, or with `all` to every process
/// in its cgroup (`rune kill [--all]`). `RUNE_RESULT_INVALID_STATE` when it is stopped.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_container_kill(
    container: *mut rune_container_t,
    signal: i32,
    all: bool,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_container_kill", err_out, || {
        let h = handle::borrow(container as *const rune_container_t)?;
        if signal < 1 || signal > libc::SIGRTMAX() {
            return Err(Error::invalid_argument(format!("invalid signal {signal}")));
        }
        h.core().kill(signal, all)?;
        h.shared.log(rune_log_level_t::Info, || {
            format!("container {}: sent signal {signal}", h.id())
        });
        Ok(())
    })
}

/// Deletes the container (`rune delete [--force]`): its processes, cgroup and state. A created
/// or stopped container is deleted as is; a running or paused one only with `force` (it is
/// killed first), else `RUNE_RESULT_INVALID_STATE`. An init created through the handle's context
/// that has exited is reaped; its exit code stays available to `rune_container_wait`. The handle
/// stays valid to free (other calls on it then give `RUNE_RESULT_NOT_FOUND`). To delete by id,
/// without a handle: `rune_context_delete`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_container_delete(
    container: *mut rune_container_t,
    force: bool,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_container_delete", err_out, || {
        let h = handle::borrow(container as *const rune_container_t)?;
        h.shared.delete(h.id(), force)
    })
}

/// Returns the container's OCI state document (as `rune state` prints it: ociVersion, id,
/// status, pid, bundle, rootfs, created, owner, annotations) in `*json_out`; free it with
/// `rune_string_free`. Read afresh: `RUNE_RESULT_NOT_FOUND` once the container is deleted.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_container_state_json(
    container: *const rune_container_t,
    json_out: *mut *mut c_char,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_container_state_json", err_out, || {
        handle::clear_out(json_out, "json_out")?;
        let h = handle::borrow(container)?;
        let fresh = Container::load(&h.shared.store, h.id())?;
        let json = fresh.oci_state().to_string();
        *h.core() = fresh;
        handle::write_out(json_out, "json_out", handle::new_string(json))
    })
}

/// Writes the container's current status to `*status_out`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_container_status(
    container: *const rune_container_t,
    status_out: *mut rune_status_t,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_container_status", err_out, || {
        let h = handle::borrow(container)?;
        let s = status_of(h.core().status());
        handle::write_out(status_out, "status_out", s)
    })
}

/// Writes the pid of the container's init (in the caller's pid namespace) to `*pid_out`, or 0
/// when it is stopped. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_container_pid(
    container: *const rune_container_t,
    pid_out: *mut i32,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_container_pid", err_out, || {
        handle::clear_out(pid_out, "pid_out")?;
        let h = handle::borrow(container)?;
        let pid = h.core().pid();
        handle::write_out(pid_out, "pid_out", pid)
    })
}

/// The container's id. The string belongs to the handle: valid until `rune_container_free`,
/// never freed by the caller. NULL when `container` is NULL or not a live handle. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_container_id(container: *const rune_container_t) -> *const c_char {
    or_default(std::ptr::null(), || {
        handle::borrow(container)
            .map(|h| h.id.as_ptr())
            .unwrap_or(std::ptr::null())
    })
}

/// Waits until the container's init exits and writes its exit code to `*exit_code_out`: the
/// process's exit status, or 128+N when signal N killed it (as `rune run` reports it).
///
/// Only for a container created by this process through the same context (its init is a child
/// of the caller): `RUNE_RESULT_INVALID_STATE` otherwise. Blocks the calling thread, for ever if
/// the container is never started or killed (`rune_container_wait_timeout` waits up to a
/// limit). Several threads may wait at once: all get the code, and so does every later call.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_container_wait(
    container: *const rune_container_t,
    exit_code_out: *mut i32,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_container_wait", err_out, || {
        handle::clear_out(exit_code_out, "exit_code_out")?;
        let code = wait_init(handle::borrow(container)?, Until::Exit)?
            .ok_or_else(|| Error::new(rune_result_t::Internal, "blocking wait returned early"))?;
        handle::write_out(exit_code_out, "exit_code_out", code)
    })
}

/// `rune_container_wait` for at most `timeout_ms` milliseconds: 0 only checks, a negative value
/// waits as long as it takes. `*exited_out` says whether the init has exited (and is reaped);
/// if so `*exit_code_out` is its exit code, else 0. Running past the limit is not an error.
///
/// For a wait the caller can give up: call it in a loop with a short timeout, checking between
/// calls whether to go on. The same rules as `rune_container_wait` apply (only for an init
/// created through this context; several waits may run at once and all get the code).
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_container_wait_timeout(
    container: *const rune_container_t,
    timeout_ms: i32,
    exited_out: *mut bool,
    exit_code_out: *mut i32,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_container_wait_timeout", err_out, || {
        child::wait_out(exited_out, exit_code_out, || {
            wait_init(handle::borrow(container)?, Until::from_ms(timeout_ms))
        })
    })
}

/// Waits for the init of `h` until `until`: its exit code, None if it still runs then.
fn wait_init(h: &ContainerHandle, until: Until) -> Result<Option<i32>> {
    let child = h.child.as_ref().ok_or_else(|| {
        Error::new(
            rune_result_t::InvalidState,
            format!(
                "container {:?} was not created by this process through this context: its \
                 init is not a child to wait for",
                h.id()
            ),
        )
    })?;
    h.shared.children.wait(child, until)
}

/// Frees a container handle; the container itself is untouched (delete it with
/// `rune_container_delete`). An init that has exited is reaped. NULL does nothing; a freed or
/// foreign pointer is detected and ignored. Must not run concurrently with another call using
/// `container`.
#[no_mangle]
pub unsafe extern "C" fn rune_container_free(container: *mut rune_container_t) {
    or_default((), || {
        handle::free(container);
    })
}
