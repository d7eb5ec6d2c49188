//! `kill`: signals the init, or with `all` every process of the container's cgroup.

use super::Container;
use crate::err;
use crate::error::{Error, Result};

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
pub fn signal_abbrev(sig: i32) -> String {
    if let Some((n, _)) = SIGNALS.iter().find(|(_, v)| *v == sig) {
        return format!("SIG{}", n);
    }
    if sig >= libc::SIGRTMIN() && sig <= libc::SIGRTMAX() {
        return format!("SIGRTMIN+{}", sig - libc::SIGRTMIN());
    }
    sig.to_string()
}

/// A signal by number, name, or name with the SIG prefix (any case); RTMIN+N too.
pub fn parse_signal(s: &str) -> Result<i32> {
    let bad = || err!(InvalidArgument, "unknown signal {:?}", s);
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
    if let Some(rest) = name.strip_prefix("RTMIN") {
        let off: i32 = if rest.is_empty() {
            0
        } else {
            rest.strip_prefix('+')
                .and_then(|r| r.parse().ok())
                .ok_or_else(bad)?
        };
        let n = libc::SIGRTMIN() + off;
        if n <= libc::SIGRTMAX() {
            return Ok(n);
        }
    }
    if let Some(rest) = name.strip_prefix("RTMAX") {
        let off: i32 = if rest.is_empty() {
            0
        } else {
            rest.strip_prefix('-')
                .and_then(|r| r.parse().ok())
                .ok_or_else(bad)?
        };
        let n = libc::SIGRTMAX() - off;
        if n >= libc::SIGRTMIN() {
            return Ok(n);
        }
    }
    Err(bad())
}

impl Container {
    /// Signals the init, or with `all` every process in the container's cgroup. With `all`, a
    /// stopped container is not an error (what is left of it is signalled), as with runc:
    /// containerd sends `kill --all` when it removes any container. The error otherwise reads
    /// "container not running", the words containerd's shim looks for.
    pub fn kill(&self, sig: i32, all: bool) -> Result<()> {
        let status = self.status();
        if !status.can_kill() && !all {
            return Err(err!(InvalidState, "container not running: {}", self.id()));
        }
        if all {
            if let Some(path) = &self.state.cgroup_path {
                for pid in crate::cgroups::manager(path).pids() {
                    let _ = crate::sys::signal::kill(pid, sig);
                }
                return Ok(());
            }
            if !status.can_kill() {
                return Ok(());
            }
        }
        // An enclave's entrypoint gets the signal through pal_kill, so that a PAL's refusal
        // reaches the caller; SIGKILL (and the existence check, 0) go to the enclave keeper
        // itself: SIGKILL always ends the container, whatever the PAL would do with it.
        if let Some(e) = &self.state.enclave {
            if e.pal_version >= 2
                && sig != libc::SIGKILL
                && sig != 0
                && status == super::Status::Running
            {
                return crate::enclave::client::signal(&self.store.dir_of(self.id()), sig);
            }
        }
        // The pid was checked alive with its start time.
        crate::sys::signal::kill(self.state.init_pid, sig)
            .map_err(|e| Error::io(format!("kill container {}", self.id()), e))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_signal;

    #[test]
    fn signals_by_name_and_number() {
        assert_eq!(parse_signal("9").unwrap(), 9);
        assert_eq!(parse_signal("KILL").unwrap(), 9);
        assert_eq!(parse_signal("SIGKILL").unwrap(), 9);
        assert_eq!(parse_signal("term").unwrap(), 15);
        assert_eq!(parse_signal("RTMIN+1").unwrap(), libc::SIGRTMIN() + 1);
        assert_eq!(parse_signal("0").unwrap(), 0);
        for bad in ["FOO", "-1", "999", "SIG"] {
            assert!(parse_signal(bad).is_err(), "{bad}");
        }
    }
}
