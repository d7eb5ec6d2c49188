//! The device cgroup (v1): the config's rules in order, then the devices every container gets
//! (the default nodes, ptys, /dev/net/tun, and mknod of anything), as runc allows them. On
//! cgroup v2 the same rules become an eBPF program (devices_bpf).

use crate::err;
use crate::error::{Error, Result};
use cgroups_rs::devices::{DevicePermissions, DeviceType, DevicesController};
use oci_spec::runtime::{LinuxDeviceType, LinuxResources, Spec};

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

/// The access of a rule in the kernel's order: `r`, `w` and `m` may come in any order and more
/// than once ("mwr", "rm", "rrw"), as the kernel and runc take them. An `a` (the letter of the
/// "all devices" type, which configs put in access strings too: runc's tests use "rwa") means
/// nothing, as in runc, which keeps only r, w and m. Anything else is refused, and so is an
/// access that names none of r, w and m.
fn access(given: &str) -> Option<String> {
    if !given.chars().all(|c| matches!(c, 'r' | 'w' | 'm' | 'a')) {
        return None;
    }
    let kept: String = ['r', 'w', 'm']
        .iter()
        .filter(|c| given.contains(**c))
        .collect();
    (!kept.is_empty()).then_some(kept)
}

/// Checks `linux.resources.devices` before anything is made: the type is `a`, `b` or `c`
/// (config-linux.md; a `p` or `u` rule would reach the kernel as `a`, every device), and the
/// access, when given, is made of `r`, `w` and `m`. Unset, the type is `a` and the access `rwm`.
pub fn check(res: &LinuxResources) -> Result<()> {
    for (i, d) in res.devices().iter().flatten().enumerate() {
        if let Some(t @ (LinuxDeviceType::P | LinuxDeviceType::U)) = d.typ() {
            return Err(err!(
                InvalidSpec,
                "linux.resources.devices[{}]: invalid cgroup device type {:?} (a, b or c)",
                i,
                t.as_str()
            ));
        }
        match d.access().as_deref() {
            Some("") => {
                return Err(err!(
                    InvalidSpec,
                    "linux.resources.devices[{}]: device access cannot be empty",
                    i
                ))
            }
            Some(a) if access(a).is_none() => {
                return Err(err!(
                    InvalidSpec,
                    "linux.resources.devices[{}]: invalid device access {:?} (r, w and m)",
                    i,
                    a
                ))
            }
            _ => {}
        }
    }
    Ok(())
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
            access: d
                .access()
                .as_deref()
                .map(|a| access(a).unwrap_or_else(|| a.to_string()))
                .unwrap_or_else(|| "rwm".into()),
        })
        .collect();
    // linux.devices get no rule of their own: the nodes are made, and the allowed list alone
    // says what may be done with them, as runc does (a deny-all before an allow list that
    // leaves a node out keeps it out).
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
            err!(
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

#[cfg(test)]
mod tests {
    use oci_spec::runtime::LinuxResources;

    fn res(v: serde_json::Value) -> LinuxResources {
        serde_json::from_value(serde_json::json!({ "devices": [v] })).unwrap()
    }

    #[test]
    fn access_in_any_order() {
        assert_eq!(super::access("mwr").as_deref(), Some("rwm"));
        assert_eq!(super::access("rm").as_deref(), Some("rm"));
        assert_eq!(super::access("wrw").as_deref(), Some("rw"));
        assert_eq!(super::access("rx"), None);
        assert_eq!(super::access(""), None);
        assert_eq!(super::access("rwa").as_deref(), Some("rw"));
        assert_eq!(super::access("amr").as_deref(), Some("rm"));
        assert_eq!(super::access("a"), None);
    }

    #[test]
    fn rules_are_checked() {
        let ok = serde_json::json!({"allow": true, "type": "a", "access": "mwr"});
        assert!(super::check(&res(ok)).is_ok());
        assert!(super::check(&res(serde_json::json!({"allow": true}))).is_ok());
        for bad in [
            serde_json::json!({"allow": true, "type": "p", "access": "rwm"}),
            serde_json::json!({"allow": true, "type": "u", "access": "rwm"}),
            serde_json::json!({"allow": true, "type": "c", "access": ""}),
            serde_json::json!({"allow": true, "type": "c", "access": "RW"}),
        ] {
            let e = super::check(&res(bad.clone())).unwrap_err();
            assert!(e.to_string().contains("devices[0]"), "{bad}: {e}");
        }
    }
}
