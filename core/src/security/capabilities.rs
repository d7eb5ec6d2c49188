//! Linux capabilities by name, and applying the five sets of config.json.

use crate::err;
use crate::error::{Context, Error, Result};
use oci_spec::runtime::{Capabilities, Capability, LinuxCapabilities, Process, Spec};

/// Every capability name the kernel headers know, indexed by number.
pub const NAMES: [&str; 41] = [
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

/// The number of a capability name (`CAP_X` or `X`, any case).
pub fn number(name: &str) -> Result<u32> {
    let up = name.to_ascii_uppercase();
    let full = if up.starts_with("CAP_") {
        up
    } else {
        format!("CAP_{}", up)
    };
    NAMES
        .iter()
        .position(|n| *n == full)
        .map(|i| i as u32)
        .ok_or_else(|| err!(InvalidArgument, "unknown capability {:?}", name))
}

fn bits(set: &Option<Capabilities>) -> u64 {
    set.iter()
        .flatten()
        .filter_map(|c| number(&cap_name(c)).ok())
        .fold(0u64, |acc, n| acc | (1u64 << n))
}

/// The spec's capability enum as its config.json name.
pub fn cap_name(c: &Capability) -> String {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

/// Drops from the bounding set every capability the config does not list.
pub fn apply_bounding(caps: &LinuxCapabilities) -> Result<()> {
    let keep = bits(caps.bounding());
    for n in 0..=last_cap() {
        if keep & (1u64 << n) == 0 {
            let what = format!(
                "drop {} from the bounding set",
                NAMES.get(n as usize).unwrap_or(&"?")
            );
            match crate::sys::prctl(libc::PR_CAPBSET_DROP, n as libc::c_ulong, &what) {
                Err(e) if e.errno() == Some(libc::EINVAL) => continue, // not known to this kernel
                r => r?,
            }
        }
    }
    Ok(())
}

/// The capabilities the config's sets ask for that a process holding `held` (its permitted
/// set) cannot be given: withheld from the runtime (a restricted host) or unknown to the
/// kernel. config.md: they are warned about, and the process starts without them.
pub fn ungrantable(caps: &LinuxCapabilities, held: u64) -> Vec<&'static str> {
    let asked = bits(caps.bounding())
        | bits(caps.effective())
        | bits(caps.permitted())
        | bits(caps.inheritable())
        | bits(caps.ambient());
    (0..NAMES.len())
        .filter(|n| asked & !held & (1u64 << n) != 0)
        .map(|n| NAMES[n])
        .collect()
}

/// The warning for the capabilities `process` asks for that it cannot get (config.md: logged,
/// and the process starts without them). Without a user namespace the init can give only what
/// rune holds: a restricted host may withhold some, an older kernel not know them. In a user
/// namespace (the container's `spec`) the init holds every capability there.
pub fn ungranted_warning(spec: &Spec, process: &Process) -> Option<Error> {
    if crate::namespaces::listed_types(spec).contains(&crate::namespaces::NsType::User) {
        return None;
    }
    let missing = ungrantable(process.capabilities().as_ref()?, held());
    (!missing.is_empty()).then(|| {
        err!(
            PermissionDenied,
            "ignoring capabilities this runtime does not hold or the kernel does not know: {}",
            missing.join(", ")
        )
    })
}

/// This process's permitted set (what it can give), all of it when capget fails.
pub fn held() -> u64 {
    crate::sys::caps::get().map_or(u64::MAX, |(p, _)| p)
}

/// Sets the effective, permitted and inheritable sets, then the ambient set, each without what
/// this process does not hold ([`ungrantable`]; create warned of them).
pub fn apply_sets(caps: &LinuxCapabilities) -> Result<()> {
    let (held, inheritable) = crate::sys::caps::get().context("read capabilities")?;
    let (e, p, i) = (
        bits(caps.effective()) & held,
        bits(caps.permitted()) & held,
        bits(caps.inheritable()) & (held | inheritable),
    );
    crate::sys::caps::set(e, p, i).context("set capabilities")?;
    let ambient = bits(caps.ambient()) & held;
    let _ = crate::sys::prctl(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
        "clear the ambient set",
    );
    for n in 0..64u32 {
        if ambient & (1u64 << n) != 0 {
            // An ambient capability must also be permitted and inheritable; runc's default
            // spec lists ambient ones without inheritable, and runc goes on: so does rune.
            match crate::sys::caps::raise_ambient(n) {
                Err(e) if e.raw_os_error() != Some(libc::EPERM) => {
                    return Err(Error::io(
                        format!(
                            "raise ambient capability {}",
                            NAMES.get(n as usize).unwrap_or(&"?")
                        ),
                        e,
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn what_is_not_held_cannot_be_granted() {
        let caps: super::LinuxCapabilities = serde_json::from_value(serde_json::json!({
            "bounding": ["CAP_KILL", "CAP_SYS_RESOURCE"],
            "effective": ["CAP_KILL"],
            "ambient": ["CAP_BPF"]
        }))
        .unwrap();
        let all = u64::MAX;
        assert!(super::ungrantable(&caps, all).is_empty());
        let no_resource = all & !(1 << 24);
        assert_eq!(super::ungrantable(&caps, no_resource), ["CAP_SYS_RESOURCE"]);
        // A kernel that knows only up to CAP_AUDIT_READ (37).
        let old_kernel = (1u64 << 38) - 1;
        assert_eq!(super::ungrantable(&caps, old_kernel), ["CAP_BPF"]);
    }

    #[test]
    fn names_and_numbers() {
        assert_eq!(super::number("CAP_KILL").unwrap(), 5);
        assert_eq!(super::number("net_bind_service").unwrap(), 10);
        assert_eq!(super::number("CAP_CHECKPOINT_RESTORE").unwrap(), 40);
        assert!(super::number("CAP_NOPE").is_err());
    }
}
