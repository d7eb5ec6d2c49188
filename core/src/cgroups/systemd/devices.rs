//! The device rules as systemd's DevicePolicy and DeviceAllow. rune attaches its own filter
//! after systemd's (both must allow an access), so systemd's list is made at least as wide as
//! rune's rules: an allow-all ruleset, or a deny list (which systemd cannot express), leaves
//! systemd's policy open (`auto`, no entries); a deny inside an allow list is left to rune.

use super::super::devices::{has_rules, rules};
use super::wire::Value;
use cgroups_rs::devices::DeviceType;
use oci_spec::runtime::Spec;

fn allow(path: String, access: &str) -> Value {
    Value::Struct(vec![Value::Str(path), Value::str(access)])
}

/// `char-<name>` or `block-<name>` of a major number, from /proc/devices.
fn group(typ: char, major: i64, proc_devices: &str) -> Option<String> {
    let (kind, section) = if typ == 'c' {
        ("char", "Character devices:")
    } else {
        ("block", "Block devices:")
    };
    proc_devices
        .split("\n\n")
        .find(|s| s.trim_start().starts_with(section))?
        .lines()
        .skip(1)
        .find_map(|l| {
            let (m, name) = l.trim().split_once(' ')?;
            (m.parse::<i64>().ok()? == major).then(|| format!("{}-{}", kind, name.trim()))
        })
}

/// DevicePolicy and DeviceAllow for the config's rules (none when it has no rules).
pub fn properties(spec: &Spec, proc_devices: &str) -> Vec<Value> {
    if !has_rules(spec) {
        return Vec::new();
    }
    let mut open = false;
    let mut list: Vec<Value> = Vec::new();
    for r in rules(spec) {
        let t = match r.typ {
            DeviceType::Char => 'c',
            DeviceType::Block => 'b',
            DeviceType::All => {
                list.clear();
                open = r.allow && r.access == "rwm";
                if r.allow && !open {
                    list.push(allow("char-*".into(), &r.access));
                    list.push(allow("block-*".into(), &r.access));
                }
                continue;
            }
        };
        if !r.allow || open {
            continue;
        }
        let kind = if t == 'c' { "char" } else { "block" };
        let path = if r.major < 0 {
            format!("{}-*", kind)
        } else if r.minor < 0 {
            match group(t, r.major, proc_devices) {
                Some(g) => g,
                // No such driver here: no device of it to allow.
                None => continue,
            }
        } else {
            format!("/dev/{}/{}:{}", kind, r.major, r.minor)
        };
        list.push(allow(path, &r.access));
    }
    let policy = if open { "auto" } else { "strict" };
    let entries = if open { Vec::new() } else { list };
    vec![
        Value::prop("DevicePolicy", Value::str(policy)),
        Value::prop("DeviceAllow", Value::Array("(ss)".into(), entries)),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::wire::Value;

    const PROC_DEVICES: &str = "Character devices:\n  1 mem\n136 pts\n\nBlock devices:\n  8 sd\n";

    fn spec(devices: serde_json::Value) -> oci_spec::runtime::Spec {
        let mut s = oci_spec::runtime::Spec::default();
        let res = serde_json::from_value(serde_json::json!({ "devices": devices })).unwrap();
        if let Some(l) = s.linux_mut() {
            l.set_resources(Some(res));
        }
        s
    }

    #[test]
    fn an_allow_list_becomes_strict_with_systemd_paths() {
        let s = spec(serde_json::json!([
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "b", "major": 8, "minor": 0, "access": "r"},
        ]));
        let p = super::properties(&s, PROC_DEVICES);
        assert_eq!(p[0], Value::prop("DevicePolicy", Value::str("strict")));
        let Value::Struct(kv) = &p[1] else { panic!() };
        let Value::Variant(list) = &kv[1] else {
            panic!()
        };
        let Value::Array(sig, items) = &**list else {
            panic!()
        };
        assert_eq!(sig, "(ss)");
        let pair = |a: &str, b: &str| Value::Struct(vec![Value::str(a), Value::str(b)]);
        assert!(items.contains(&pair("/dev/block/8:0", "r")));
        assert!(items.contains(&pair("/dev/char/1:3", "rwm")));
        assert!(items.contains(&pair("char-pts", "rwm")));
        assert!(items.contains(&pair("char-*", "m")));
    }

    #[test]
    fn allow_all_and_deny_lists_leave_systemd_open() {
        for rules in [
            serde_json::json!([{"allow": true, "access": "rwm"}]),
            serde_json::json!([{"allow": true}, {"allow": false, "type": "c", "major": 1, "minor": 3}]),
        ] {
            let p = super::properties(&spec(rules), PROC_DEVICES);
            assert_eq!(p[0], Value::prop("DevicePolicy", Value::str("auto")));
            assert_eq!(
                p[1],
                Value::prop("DeviceAllow", Value::Array("(ss)".into(), vec![]))
            );
        }
        assert!(super::properties(&oci_spec::runtime::Spec::default(), "").is_empty());
    }
}
