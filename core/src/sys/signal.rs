//! Signals: sending them to processes, their names as the C library gives them, rune's own
//! dispositions and masks, and a self-pipe for handled signals.

use crate::error::{Error, Result};
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};

/// kill(2): sends signal number `sig` to `pid` (any number, realtime ones included; 0 only
/// checks that the process can be signalled).
pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill takes two integers and touches no memory of ours.
    super::at_result(unsafe { libc::kill(pid, sig) })
}

/// The C library's description of signal `sig` (strsignal(3)), e.g. "Segmentation fault".
pub fn description(sig: i32) -> String {
    // SAFETY: strsignal returns a NUL-terminated string, static or in a thread-local buffer,
    // for any number; it stays valid until the next strsignal on this thread, and is copied
    // out at once.
    let s = unsafe { std::ffi::CStr::from_ptr(libc::strsignal(sig)) };
    s.to_string_lossy().into_owned()
}

const SIGNALS: &[(&str, i32)] = &[
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("IOT", libc::SIGIOT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("STKFLT", libc::SIGSTKFLT),
    ("CHLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("POLL", libc::SIGPOLL),
    ("PWR", libc::SIGPWR),
    ("SYS", libc::SIGSYS),
];

/// `SIGUSR1` for 10, `SIGRTMIN+2`, or the number when it has no name.
pub fn abbrev(sig: i32) -> String {
    if let Some((n, _)) = SIGNALS.iter().find(|(_, v)| *v == sig) {
        return format!("SIG{}", n);
    }
    if sig >= libc::SIGRTMIN() && sig <= libc::SIGRTMAX() {
        return format!("SIGRTMIN+{}", sig - libc::SIGRTMIN());
    }
    sig.to_string()
}

/// A signal by number, name, or name with the SIG prefix (any case); RTMIN+N too.
pub fn parse(s: &str) -> Result<i32> {
    let bad = || crate::err!(InvalidArgument, "unknown signal {:?}", s);
    if let Ok(n) = s.parse::<i32>() {
        // 0 checks that the process exists, as kill(1) does; runc takes it too.
        if n >= 0 && n <= libc::SIGRTMAX() {
            return Ok(n);
        }
        return Err(bad());
    }
    let up = s.to_ascii_uppercase();
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    if let Some((_, n)) = SIGNALS.iter().find(|(n, _)| *n == name) {
        return Ok(*n);
    }
    // RTMIN, RTMIN+N, RTMAX, RTMAX-N.
    let offset = |rest: &str, sign: char| -> Result<i32> {
        if rest.is_empty() {
            return Ok(0);
        }
        rest.strip_prefix(sign)
            .and_then(|r| r.parse().ok())
            .ok_or_else(bad)
    };
    let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
    let n = if let Some(rest) = name.strip_prefix("RTMIN") {
        Some(min + offset(rest, '+')?)
    } else if let Some(rest) = name.strip_prefix("RTMAX") {
        Some(max - offset(rest, '-')?)
    } else {
        None
    };
    if let Some(n) = n.filter(|n| (min..=max).contains(n)) {
        return Ok(n);
    }
    Err(bad())
}

/// SIGPIPE back at its default, for payloads that inherit dispositions.
pub fn default_sigpipe() {
    // SAFETY: signal() with a valid signal and disposition.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
}

/// Unblocks every signal and gives every catchable one but SIGPIPE its default disposition
/// (the host may have blocked signals to forward them, or left some ignored, real-time ones
/// too, which an execve keeps; a container starts clean; SIGPIPE stays ignored while rune
/// runs, and the payload gets it back at exec).
pub fn reset_all() {
    // The kernel's struct sigaction: glibc refuses its own two signals (32 and 33), which an
    // ignoring host passes on like any other.
    #[repr(C)]
    struct KernelSigaction {
        handler: libc::sighandler_t,
        flags: libc::c_ulong,
        restorer: usize,
        mask: u64,
    }
    let dfl = KernelSigaction {
        handler: libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    // SAFETY: an empty, initialised set for sigprocmask; rt_sigaction with a valid struct of
    // the kernel's layout and the size of its signal set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        for s in 1..=SIGRTMAX_KERNEL {
            if s != libc::SIGKILL && s != libc::SIGSTOP && s != libc::SIGPIPE {
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    s,
                    &dfl as *const KernelSigaction,
                    std::ptr::null_mut::<KernelSigaction>(),
                    std::mem::size_of::<u64>(),
                );
            }
        }
    }
}

/// The kernel's highest signal number (_NSIG on Linux).
const SIGRTMAX_KERNEL: libc::c_int = 64;

/// The write end of the self-pipe the handler writes signal numbers to (one per process).
static PIPE_W: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(sig: libc::c_int) {
    let fd = PIPE_W.load(Ordering::Relaxed);
    if fd >= 0 {
        let b = sig as u8;
        // SAFETY: write(2) is async-signal-safe; a one-byte buffer that lives across the call.
        unsafe { libc::write(fd, &b as *const u8 as *const libc::c_void, 1) };
    }
}

/// Handled signals, read one by one from a self-pipe (so a thread can act on them safely).
pub struct SignalPipe {
    read: OwnedFd,
}

impl SignalPipe {
    /// Installs a handler for each of `signals` (SA_RESTART) that writes its number to the
    /// pipe.
    pub fn install(signals: &[i32]) -> Result<SignalPipe> {
        let mut fds = [0; 2];
        // SAFETY: a valid array of two ints for pipe2.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(Error::io("pipe", std::io::Error::last_os_error()));
        }
        // SAFETY: pipe2 returned two new descriptors; the read end is owned here, the write
        // end stays open for the handler for the life of the process.
        let read = unsafe { OwnedFd::from_raw_fd(fds[0]) };
        PIPE_W.store(fds[1], Ordering::SeqCst);
        for &sig in signals {
            // SAFETY: a zeroed sigaction is valid; the handler only writes to a pipe.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                sa.sa_flags = libc::SA_RESTART;
                libc::sigaction(sig, &sa, std::ptr::null_mut());
            }
        }
        Ok(SignalPipe { read })
    }

    /// Blocks for the next signal (None on a failed or short read).
    pub fn next(&self) -> Option<i32> {
        let mut b = [0u8; 1];
        match nix::unistd::read(&self.read, &mut b) {
            Ok(1) => Some(b[0] as i32),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{abbrev, parse};

    #[test]
    fn signals_by_name_and_number() {
        assert_eq!(parse("9").unwrap(), 9);
        assert_eq!(parse("KILL").unwrap(), 9);
        assert_eq!(parse("SIGKILL").unwrap(), 9);
        assert_eq!(parse("term").unwrap(), 15);
        assert_eq!(parse("RTMIN+1").unwrap(), libc::SIGRTMIN() + 1);
        assert_eq!(parse("sigrtmax-2").unwrap(), libc::SIGRTMAX() - 2);
        assert_eq!(parse("RTMAX").unwrap(), libc::SIGRTMAX());
        assert!(parse("RTMIN+99").is_err());
        assert!(parse("RTMIN-1").is_err());
        assert_eq!(parse("0").unwrap(), 0);
        for bad in ["FOO", "-1", "999", "SIG"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(abbrev(libc::SIGUSR1), "SIGUSR1");
        assert_eq!(abbrev(libc::SIGRTMIN() + 2), "SIGRTMIN+2");
    }
}
