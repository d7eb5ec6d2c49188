//! Small /proc helpers: pids, process status fields, capability masks.

use std::path::Path;

/// Read a pid file (decimal, optional trailing newline); panics if invalid.
#[track_caller]
pub fn read_pid_file(path: &Path) -> i32 {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("pid file {path:?} not readable: {e}"));
    text.trim()
        .parse()
        .unwrap_or_else(|e| panic!("pid file {path:?} holds {text:?}: {e}"))
}

/// True if `pid` exists and is not a zombie.
pub fn pid_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised comm, which may contain spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// The value of `field` in a `/proc/<pid>/status`-formatted text.
pub fn proc_status_field(status: &str, field: &str) -> Option<String> {
    status.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == field).then(|| v.trim().to_string())
    })
}

/// Parse a hexadecimal capability set as printed in /proc/<pid>/status.
pub fn parse_cap_hex(text: &str) -> u64 {
    u64::from_str_radix(text.trim(), 16).unwrap_or_else(|e| panic!("bad cap set {text:?}: {e}"))
}

pub const CAP_NAMES: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// Bit number of a capability name (`CAP_KILL` -> 5).
pub fn cap_bit(name: &str) -> u32 {
    CAP_NAMES
        .iter()
        .position(|n| *n == name)
        .unwrap_or_else(|| panic!("unknown capability {name}")) as u32
}

/// Bit mask of a set of capability names.
pub fn cap_mask(names: &[&str]) -> u64 {
    names.iter().fold(0, |m, n| m | (1u64 << cap_bit(n)))
}

/// The namespace identity (`net:[4026531840]`) of `/proc/<pid>/ns/<ns>`.
pub fn ns_link(pid: &str, ns: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{ns}"))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|e| panic!("readlink /proc/{pid}/ns/{ns}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_cap_mask() {
        assert_eq!(
            cap_mask(&["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]),
            0x2000_0420
        );
        assert_eq!(cap_bit("CAP_SYS_ADMIN"), 21);
        assert_eq!(cap_bit("CAP_CHECKPOINT_RESTORE"), 40);
    }

    #[test]
    fn status_fields() {
        let s = "Name:\tsh\nCapEff:\t0000000020000420\nNoNewPrivs:\t1\n";
        assert_eq!(proc_status_field(s, "NoNewPrivs").as_deref(), Some("1"));
        assert_eq!(
            parse_cap_hex(&proc_status_field(s, "CapEff").unwrap()),
            0x2000_0420
        );
        assert_eq!(proc_status_field(s, "CapAmb"), None);
    }

    #[test]
    fn own_process_is_alive() {
        assert!(pid_alive(std::process::id() as i32));
        assert!(!pid_alive(0));
    }
}
