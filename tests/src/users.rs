//! The plain host user the tests act as (rootless runs, attacks by a non-root user). Made once
//! per machine; test binaries run in parallel, so its creation is serialised with a lock file.

use std::os::fd::AsRawFd;
use std::process::Command;

pub const TEST_USER: &str = "runetest";
pub const TEST_UID: u32 = 4242;

fn exists() -> bool {
    Command::new("id")
        .arg(TEST_USER)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Creates the test user unless it exists (idempotent across test binaries and runs).
pub fn ensure_test_user() {
    if exists() {
        return;
    }
    let lock = std::fs::File::create("/run/rune-test-user.lock").expect("user lock file");
    // SAFETY: flock on our own descriptor; released when the file is closed.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
    if exists() {
        return;
    }
    let out = Command::new("useradd")
        .args([
            "-M",
            "-u",
            &TEST_UID.to_string(),
            "-s",
            "/bin/sh",
            TEST_USER,
        ])
        .output()
        .expect("run useradd");
    assert!(out.status.success() && exists(), "useradd: {:?}", out);
}
