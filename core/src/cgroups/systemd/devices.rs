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
