//! The device cgroup (v1): the config's rules in order, then the devices every container gets
//! (the default nodes, ptys, /dev/net/tun, and mknod of anything), as runc allows them. On
//! cgroup v2 the same rules become an eBPF program (devices_bpf).

use crate::error::{Error, Result};
use cgroups_rs::devices::{DevicePermissions, DeviceType, DevicesController};
use oci_spec::runtime::{LinuxDeviceType, Spec};

pub(super) struct Rule {
    pub allow: bool,
    pub typ: DeviceType,
    pub major: i64,
    pub minor: i64,
    pub access: String,
}

/// (type, major, minor, access) always allowed; -1 is "any".
const DEFAULT_ALLOWED: &[(char, i64, i64, &str)] = &[
    ('c', -1, -1, "m"),
    ('b', -1, -1, "m"),
    ('c', 1, 3, "rwm"),
    ('c', 1, 8, "rwm"),
    ('c', 1, 7, "rwm"),
    ('c', 5, 0, "rwm"),
    ('c', 1, 5, "rwm"),
    ('c', 1, 9, "rwm"),
    ('c', 5, 1, "rwm"),
    ('c', 136, -1, "rwm"),
    ('c', 5, 2, "rwm"),
    ('c', 10, 200, "rwm"),
];

fn dev_type(t: Option<LinuxDeviceType>) -> DeviceType {
    match t {
        Some(LinuxDeviceType::C) | Some(LinuxDeviceType::U) => DeviceType::Char,
        Some(LinuxDeviceType::B) => DeviceType::Block,
        _ => DeviceType::All,
    }
}

pub(super) fn rules(spec: &Spec) -> Vec<Rule> {
    let linux = match spec.linux() {
        Some(l) => l,
        None => return Vec::new(),
    };
    let mut out: Vec<Rule> = linux
        .resources()
        .as_ref()
        .and_then(|r| r.devices().as_ref())
        .into_iter()
        .flatten()
        .map(|d| Rule {
            allow: d.allow(),
            typ: dev_type(d.typ()),
            major: d.major().unwrap_or(-1),
            minor: d.minor().unwrap_or(-1),
            access: d.access().clone().unwrap_or_else(|| "rwm".into()),
        })
        .collect();
    // A fifo needs no device rule, and as "any type" (its major and minor ignored) it would
    // allow every device.
    for d in linux
        .devices()
        .iter()
        .flatten()
        .filter(|d| d.typ() != LinuxDeviceType::P)
    {
        out.push(Rule {
            allow: true,
            typ: dev_type(Some(d.typ())),
            major: d.major(),
            minor: d.minor(),
            access: "rwm".into(),
        });
    }
    for (t, ma, mi, acc) in DEFAULT_ALLOWED {
        out.push(Rule {
            allow: true,
            typ: DeviceType::from_char(Some(*t)).unwrap_or(DeviceType::All),
            major: *ma,
            minor: *mi,
            access: acc.to_string(),
        });
    }
    out
}

/// True when the config has device rules at all (else the cgroup inherits its parent's).
pub(super) fn has_rules(spec: &Spec) -> bool {
    spec.linux()
        .as_ref()
        .and_then(|l| l.resources().as_ref())
        .and_then(|r| r.devices().as_ref())
        .is_some_and(|d| !d.is_empty())
}

/// Writes the rules, when the config has any.
pub fn apply(dc: &DevicesController, spec: &Spec) -> Result<()> {
    if !has_rules(spec) {
        return Ok(());
    }
    for r in rules(spec) {
        let perms = DevicePermissions::from_str(&r.access).map_err(|_| {
            crate::err!(
                InvalidSpec,
                "invalid device access {:?} in linux.resources.devices",
                r.access
            )
        })?;
        let res = if r.allow {
            dc.allow_device(r.typ, r.major, r.minor, &perms)
        } else {
            dc.deny_device(r.typ, r.major, r.minor, &perms)
        };
        res.map_err(|e| {
            Error::new(
                crate::ErrorKind::Os,
                format!(
                    "device cgroup rule {} {}:{} {}: {}",
                    if r.allow { "allow" } else { "deny" },
                    r.major,
                    r.minor,
                    r.access,
                    e
                ),
            )
        })?;
    }
    Ok(())
}
