//! The enclave keeper: what the container's init becomes in an enclave container (the original
//! rune's "runelet"; the enclave workload, `crate::workload`, loaded the PAL from a host path
//! before entering the container's root and called pal_init after the container's set-up).
//! After `start` it runs the entrypoint through the PAL, forwards the signals it gets with
//! pal_kill, serves `exec` and `attest` on its socket, and finally calls pal_destroy and ends
//! with the entrypoint's exit code. ("Host" in rune means the caller's side, `rune create`.)

use super::pal::Pal;
use super::protocol::{KeeperEnd, Reply, Request};
use crate::error::Result;
use crate::ipc::channel::{Channel, End};
use crate::ipc::WireError;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};

/// The PAL's id of the entrypoint, for forwarding signals (-1 until it exists).
static ENTRYPOINT: AtomicI32 = AtomicI32::new(-1);

/// Signals forwarded to the entrypoint.
const FORWARDED: [i32; 9] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
    libc::SIGALRM,
    libc::SIGCONT,
];

/// Binds the enclave keeper's socket in the container's state directory (by `rune create`, which
/// passes it to the init). The socket is 0600, whatever the umask, in a 0700 directory.
pub fn listen(state_dir: &std::path::Path) -> Result<UnixListener> {
    let path = state_dir.join(super::SOCKET);
    let _ = std::fs::remove_file(&path);
    // A socket address holds 107 bytes; a state directory may be longer (Docker's is): bind
    // through a short path naming an fd of the directory instead.
    let (_dir, short) = super::short_path(state_dir)?;
    let l = UnixListener::bind(&short)
        .map_err(|e| crate::Error::io(format!("bind {}", path.display()), e))?;
    crate::files::chmod(&short, 0o600)?;
    Ok(l)
}

/// Runs the entrypoint through the PAL and serves exec requests until it ends; returns the
/// exit code the process is to end with at once (the PAL destroyed, its threads still up).
/// Only peers whose uid is in `peers` (host root and the container's owner, as seen here) are
/// served.
pub fn run(
    pal: Pal,
    listener: UnixListener,
    peers: Vec<u32>,
    path: &str,
    argv: &[String],
    env: &[String],
) -> i32 {
    let pal = Arc::new(pal);
    // The payloads the PAL starts inherit dispositions: give them the default SIGPIPE.
    crate::sys::signal::default_sigpipe();
    forward_signals(pal.clone());
    let cwd_lock = Arc::new(Mutex::new(()));
    {
        let pal = pal.clone();
        let lock = cwd_lock.clone();
        std::thread::spawn(move || serve(listener, peers, pal, lock));
    }
    let code = match entrypoint(&pal, path, argv, env) {
        Ok(code) => code,
        Err(e) => {
            log(&e);
            1
        }
    };
    if let Err(e) = pal.destroy() {
        log(&e);
    }
    code
}

fn entrypoint(pal: &Pal, path: &str, argv: &[String], env: &[String]) -> Result<i32> {
    let stdio = [0, 1, 2];
    if pal.version() == 1 {
        return pal.exec_v1(path, argv, stdio);
    }
    if pal.convention().flavor == super::pal::Flavor::Wamr {
        // WAMR runs the process inside pal_create_process and gives no ids: signals for the
        // entrypoint go to pal_kill(0, sig) from the start (WAMR ignores them).
        ENTRYPOINT.store(0, Ordering::SeqCst);
    }
    let pid = pal.create_process(path, argv, env, stdio)?;
    ENTRYPOINT.store(pid, Ordering::SeqCst);
    pal.exec(pid)
}

fn forward_signals(pal: Arc<Pal>) {
    let signals = match crate::sys::signal::SignalPipe::install(&FORWARDED) {
        Ok(s) => s,
        Err(_) => return,
    };
    std::thread::spawn(move || loop {
        let sig = match signals.next() {
            Some(sig) => sig,
            None => continue,
        };
        if pal.version() < 2 {
            // No pal_kill in v1: a terminating signal ends the enclave and the container (as
            // the init of its pid namespace, this process would otherwise never get it).
            if sig != libc::SIGWINCH && sig != libc::SIGCONT {
                // Destroyed once: a destroy under way on the main thread is waited for.
                let _ = pal.destroy();
                crate::sys::exec::exit_now(128 + sig);
            }
            continue;
        }
        let pid = ENTRYPOINT.load(Ordering::SeqCst);
        if pid >= 0 {
            if let Err(e) = pal.kill(pid, sig) {
                log(&e);
            }
        }
    });
}

/// How long the keeper waits for a request before it gives back its set-up code's pages.
const IDLE: std::time::Duration = std::time::Duration::from_millis(100);

fn serve(listener: UnixListener, peers: Vec<u32>, pal: Arc<Pal>, cwd_lock: Arc<Mutex<()>>) {
    // From here on the keeper only waits and serves: once idle for a moment, the pages of the
    // container's set-up code (most of the rune binary it ran) leave its RSS. Not on the
    // entrypoint's way (a container that ends at once never pays for it).
    let mut ready = [crate::sys::poll::PollFd::new(
        listener.as_fd(),
        libc::POLLIN,
    )];
    if matches!(crate::sys::poll::poll(&mut ready, Some(IDLE)), Ok(0)) {
        crate::sys::mem::drop_clean_file_pages();
    }
    for conn in listener.incoming() {
        let conn = match conn {
            Ok(c) => c,
            Err(_) => continue,
        };
        if let Err(e) = check_peer(&conn, &peers) {
            log(&format!("enclave keeper: {}", e));
            let ch: KeeperEnd = End::new(Channel::from_fd(OwnedFd::from(conn)));
            let _ = ch.send(&Reply::Error(WireError::from_error(&e)));
            continue;
        }
        let conn = OwnedFd::from(conn);
        let pal = pal.clone();
        let lock = cwd_lock.clone();
        std::thread::spawn(move || {
            let ch: KeeperEnd = End::new(Channel::from_fd(conn));
            if let Err(e) = handle(&ch, &pal, &lock) {
                let _ = ch.send(&Reply::Error(WireError::from_error(&e)));
            }
        });
    }
}

/// SO_PEERCRED: the connecting process must be host root or the container's owner.
fn check_peer(conn: &std::os::unix::net::UnixStream, peers: &[u32]) -> Result<()> {
    let cred = crate::sys::peercred::peer_cred(conn.as_fd())
        .map_err(|e| crate::Error::io("read the peer's credentials (SO_PEERCRED)", e))?;
    if peers.contains(&cred.uid) {
        return Ok(());
    }
    Err(crate::err!(
        PermissionDenied,
        "refused a connection from uid {} (pid {}): only root and the container's owner may \
         use the enclave keeper",
        cred.uid,
        cred.pid
    ))
}

fn handle(ch: &KeeperEnd, pal: &Arc<Pal>, cwd_lock: &Mutex<()>) -> Result<()> {
    let (req, fds) = match ch.recv()? {
        Some(r) => r,
        None => return Ok(()),
    };
    match req {
        Request::Report { target_info } => {
            let data = pal.local_report(&target_info)?;
            ch.send(&Reply::ReportData { data })
        }
        Request::Kill { .. } => Ok(()),
        Request::Signal { sig } => {
            signal_entrypoint(pal, sig)?;
            ch.send(&Reply::Done)
        }
        Request::Exec { args, env, cwd } => {
            if pal.version() < 2 {
                return Err(crate::err!(
                    Enclave,
                    "exec is not supported by this enclave runtime (PAL v1)"
                ));
            }
            if fds.len() != 3 || args.is_empty() {
                return Err(crate::err!(
                    InvalidArgument,
                    "exec request without stdio or args"
                ));
            }
            let stdio: [RawFd; 3] = [fds[0].as_raw_fd(), fds[1].as_raw_fd(), fds[2].as_raw_fd()];
            let pid = start_in(cwd.as_deref(), pal, &args, &env, stdio, cwd_lock)?;
            drop(fds);
            ch.send(&Reply::Started { pid })?;
            serve_exec(ch, pal, pid)
        }
    }
}

/// `rune kill`'s signal for the entrypoint, through pal_kill.
fn signal_entrypoint(pal: &Pal, sig: i32) -> Result<()> {
    if pal.version() < 2 {
        return Err(crate::err!(
            Enclave,
            "signals cannot be passed to this enclave runtime (PAL v1 has no pal_kill)"
        ));
    }
    // `run` and `start` report the container running once this process has its start byte;
    // the PAL may still be making the entrypoint (compiling a module, say). The signal waits
    // for it, as it would reach a native container's process.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut pid = ENTRYPOINT.load(Ordering::SeqCst);
    while pid < 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
        pid = ENTRYPOINT.load(Ordering::SeqCst);
    }
    if pid < 0 {
        return Err(crate::err!(
            InvalidState,
            "the enclave's entrypoint has not been started"
        ));
    }
    pal.kill(pid, sig)
}

/// pal_create_process with `cwd` as this process's cwd for the call (the PAL forks with it:
/// one at a time, under `cwd_lock`), then back; returns the PAL's id of the process.
fn start_in(
    cwd: Option<&std::path::Path>,
    pal: &Pal,
    args: &[String],
    env: &[String],
    stdio: [RawFd; 3],
    cwd_lock: &Mutex<()>,
) -> Result<i32> {
    let _g = cwd_lock.lock().unwrap_or_else(|p| p.into_inner());
    let old = std::env::current_dir().ok();
    let back = || {
        if let (Some(o), Some(_)) = (&old, cwd) {
            let _ = std::env::set_current_dir(o);
        }
    };
    if let Some(d) = cwd {
        // Inside the container's root, or refused (CVE-2024-21626).
        if let Err(e) = crate::sys::enter_cwd(d) {
            back();
            return Err(e);
        }
    }
    // Resolved in the container, as the entrypoint's is; else the PAL's to resolve.
    let path = crate::program::lookup(&args[0], env)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| args[0].clone());
    let r = pal.create_process(&path, args, env, stdio);
    back();
    r
}

/// Waits for the exec'd process in pal_exec while its proxy's kill requests, which arrive on
/// the same connection meanwhile, go to pal_kill; then replies with its exit code.
fn serve_exec(ch: &KeeperEnd, pal: &Arc<Pal>, pid: i32) -> Result<()> {
    let reader = ch.try_clone()?;
    let pal2 = pal.clone();
    let killer = std::thread::spawn(move || {
        while let Ok(Some((Request::Kill { sig }, _))) = reader.recv() {
            let _ = pal2.kill(pid, sig);
        }
    });
    let reply = match pal.exec(pid) {
        Ok(code) => Reply::Exited { code },
        Err(e) => Reply::Error(WireError::from_error(&e)),
    };
    let _ = ch.send(&reply);
    ch.channel().shutdown();
    let _ = killer.join();
    Ok(())
}

/// The keeper's one output: an error nobody waits for (a refused peer, a signal the PAL did
/// not take, the entrypoint's failure), on the container's stderr, its log. The keeper is the
/// container's init for its whole life: there is no caller to hand the error back to.
fn log(e: &dyn std::fmt::Display) {
    eprintln!("rune: {}", e);
}
