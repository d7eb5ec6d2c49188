//! Integration-test harness for `rune`, an OCI runtime that must behave like
//! `runc`.
//!
//! Every test drives the real binary (see [`rune_bin`]) as root against a
//! shared busybox root filesystem ([`rootfs`]), with a per-test state root
//! ([`Rune`]) and a per-test bundle ([`Bundle`]). The same tests are validated
//! against `runc` by running them with `RUNE_BIN=/usr/sbin/runc`.

pub mod bundle;
pub mod cache;
pub mod console;
pub mod enclave;
mod fdpass;
pub mod fifo;
pub use fifo::{mkfifo, trigger};
pub mod invocation;
pub mod leak;
pub mod mountinfo;
pub mod output;
pub mod procfs;
pub mod rootfs;
pub mod runner;
pub mod seccomp_listener;
pub mod updating;
pub mod users;
pub mod wasm;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use bundle::{default_spec, Bundle};
pub use cache::user_rune_bin;
pub use console::{ConsoleCapture, ConsoleSocket};
pub use enclave::*;
pub use invocation::{default_timeout, Invocation};
pub use leak::{
    assert_no_leaks, cgroup_dir, cgroup_dirs_for, cgroup_has_file, cgroup_mounts, cgroup_v2,
    cpu_weight_of_shares, make_cgroup_dir, own_cgroup, relative_base, swap_accounting, CgroupHost,
};
pub use mountinfo::{mount_opts, mountinfo_line, propagation_tags, super_opts, HostMount};
pub use output::Output;
pub use procfs::{
    cap_bit, cap_mask, ns_link, parse_cap_hex, pid_alive, proc_status_field, read_pid_file,
    CAP_NAMES,
};
pub use rootfs::{rootfs, rootfs_copy};
pub use runner::{run_in, Rune};
pub use seccomp_listener::{ListenerReport, Notification, NotifyReply, SeccompListener};
pub use serde_json::{json, Value};
pub use users::{ensure_test_user, TEST_UID, TEST_USER};
pub use wasm::*;

/// The binary under test: `$RUNE_BIN` if set, else the workspace's debug build.
pub fn rune_bin() -> PathBuf {
    match std::env::var_os("RUNE_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/rune"),
    }
}

/// A container id unique across tests, threads and concurrently running test
/// binaries: `<prefix>-<pid><run token>-<counter>`. The token (from the
/// process start time) keeps ids apart across runs that reuse a pid.
pub fn unique_id(prefix: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    static TOKEN: OnceLock<u32> = OnceLock::new();
    let token = TOKEN.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() & 0xfff)
            .unwrap_or(0)
    });
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("{prefix}-{}{token:03x}-{n}", std::process::id())
}

/// Poll `cond` until it returns true or `timeout` passes; returns whether it
/// became true. Used instead of sleeps: never a timing assertion.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(2);
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Default upper bound used when polling for a condition.
pub const POLL_TIMEOUT: Duration = Duration::from_secs(15);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_ids_differ_and_are_valid() {
        let a = unique_id("x");
        let b = unique_id("x");
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }

    #[test]
    fn wait_until_reports_timeout() {
        assert!(wait_until(Duration::from_millis(1), || true));
        assert!(!wait_until(Duration::from_millis(5), || false));
    }
}
