//! `rune_container_exec` (another process in a running container) and `rune_process_wait`
//! (`_timeout`).

use crate::child::{self, Until};
use crate::container::rune_container_t;
use crate::error::{rune_error_t, rune_result_t, Error, Result};
use crate::exec_options::rune_exec_options_t;
use crate::handle;
use crate::log::rune_log_level_t;
use crate::options::read;
use crate::panic::boundary;
use rune_core::ExecOptions;

/// Runs another process in the container's namespaces and cgroup (`rune exec`), and writes its
/// pid to `*pid_out` once it runs.
///
/// The process is a child of the calling process. Unless the options say detach, the caller
/// must reap it: `rune_process_wait(pid, ...)` (or `waitpid`). `RUNE_RESULT_INVALID_STATE` when
/// the container is neither created nor running. Thread-safe: several execs may run at once,
/// also in the same container.
#[no_mangle]
pub unsafe extern "C" fn rune_container_exec(
    container: *const rune_container_t,
    opts: *const rune_exec_options_t,
    pid_out: *mut i32,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_container_exec", err_out, || {
        handle::clear_out(pid_out, "pid_out")?;
        let h = handle::borrow(container)?;
        let settings = read(handle::borrow(opts)?).clone();
        let c = h.core().clone();
        let process = settings.process(&c.state().config)?;
        let opts = ExecOptions {
            process,
            pid_file: settings.pid_file.clone(),
            console_socket: settings.console_socket.clone(),
            preserve_fds: settings.preserve_fds,
            init_binary: Some(h.shared.init_binary()?),
            keep_console: false,
            ..Default::default()
        };
        let started = c
            .exec(&opts)
            .map_err(|e| Error::from(e).context(format!("exec in container {:?}", c.id())))?;
        let pid = started.pid;
        h.shared.log(rune_log_level_t::Info, || {
            format!("container {}: exec'd process {pid}", c.id())
        });
        if settings.detach {
            let reaper = std::thread::Builder::new()
                .name(format!("rune-reap-{pid}"))
                .spawn(move || rune_core::process::wait_exit(pid));
            if let Err(e) = reaper {
                h.shared.log(rune_log_level_t::Warn, || {
                    format!("cannot start a thread to reap detached process {pid}: {e}")
                });
            }
        }
        handle::write_out(pid_out, "pid_out", pid)
    })
}

/// Waits for process `pid` (a child of the caller, as started by a non-detached
/// `rune_container_exec`) to exit, and writes its exit code to `*exit_code_out`: its exit
/// status, or 128+N when signal N killed it. Blocks the calling thread
/// (`rune_process_wait_timeout` waits up to a limit). Do not use it for a container's init (use
/// `rune_container_wait`). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_process_wait(
    pid: i32,
    exit_code_out: *mut i32,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_process_wait", err_out, || {
        handle::clear_out(exit_code_out, "exit_code_out")?;
        let code = wait_process(pid, Until::Exit)?
            .ok_or_else(|| Error::new(rune_result_t::Internal, "blocking wait returned early"))?;
        handle::write_out(exit_code_out, "exit_code_out", code)
    })
}

/// `rune_process_wait` for at most `timeout_ms` milliseconds: 0 only checks, a negative value
/// waits as long as it takes. `*exited_out` says whether the process has exited (and is
/// reaped); if so `*exit_code_out` is its exit code, else 0. Running past the limit is not an
/// error. Call it in a loop with a short timeout for a wait the caller can give up. Only one
/// thread may wait for a given pid at a time. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn rune_process_wait_timeout(
    pid: i32,
    timeout_ms: i32,
    exited_out: *mut bool,
    exit_code_out: *mut i32,
    err_out: *mut *mut rune_error_t,
) -> rune_result_t {
    boundary("rune_process_wait_timeout", err_out, || {
        child::wait_out(exited_out, exit_code_out, || {
            wait_process(pid, Until::from_ms(timeout_ms))
        })
    })
}

/// Waits for child `pid` until `until`: its exit code, None if it still runs then.
fn wait_process(pid: i32, until: Until) -> Result<Option<i32>> {
    if pid <= 0 {
        return Err(Error::invalid_argument(format!("invalid pid {pid}")));
    }
    Ok(child::waitpid(pid, until)?.map(|s| s.code()))
}
