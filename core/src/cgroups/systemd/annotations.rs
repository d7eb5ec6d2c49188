//! Annotations `org.systemd.property.<Name>` = a value in D-Bus (GVariant) text form, added to
//! the unit's properties as runc does: `uint64 123`, `uint32 7`, `int32 -1`, `true`,
//! `'text'`, a bare integer (int32); a name ending in a lowercase letter and `Sec` takes seconds
//! (`TimeoutStopSec=10`, `1.5`) and becomes `<...>USec` in microseconds.

use super::wire::Value;
use crate::err;
use crate::error::Result;
use std::collections::HashMap;

const PREFIX: &str = "org.systemd.property.";

/// The properties the annotations add, sorted by name.
pub fn properties(annotations: &HashMap<String, String>) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut names: Vec<(&String, &String)> = annotations
        .iter()
        .filter(|(k, _)| k.starts_with(PREFIX))
        .collect();
    names.sort();
    for (k, v) in names {
        let name = &k[PREFIX.len()..];
        let bad = |why: &str| err!(InvalidSpec, "annotation {}={:?}: {}", k, v, why);
        let mut chars = name.chars();
        if !chars.next().is_some_and(|c| c.is_ascii_uppercase())
            || !name.chars().all(|c| c.is_ascii_alphabetic())
        {
            return Err(bad("not a systemd property name"));
        }
        let stem = name.strip_suffix("Sec");
        let value = match stem {
            Some(s) if s.ends_with(|c: char| c.is_ascii_lowercase()) => {
                let secs = parse(v).ok_or_else(|| bad("cannot parse the value"))?;
                let usec = match secs {
                    Value::U64(n) => n.checked_mul(1_000_000),
                    Value::U32(n) => u64::from(n).checked_mul(1_000_000),
                    Value::I32(n) if n >= 0 => (n as u64).checked_mul(1_000_000),
                    Value::Str(f) => f
                        .parse::<f64>()
                        .ok()
                        .filter(|f| *f >= 0.0 && f.is_finite())
                        .map(|f| (f * 1e6) as u64),
                    _ => None,
                };
                let usec = usec.ok_or_else(|| bad("not a number of seconds"))?;
                out.push(Value::prop(&format!("{}USec", s), Value::U64(usec)));
                continue;
            }
            _ => parse(v).ok_or_else(|| bad("cannot parse the value"))?,
        };
        if matches!(&value, Value::Str(s) if s.parse::<f64>().is_ok() && !v.starts_with('\'')) {
            return Err(bad("a decimal number is not a D-Bus value here"));
        }
        out.push(Value::prop(name, value));
    }
    Ok(out)
}

/// A value in GVariant text form; a bare decimal number comes back as its text.
fn parse(v: &str) -> Option<Value> {
    let v = v.trim();
    if let Some((ty, n)) = v.split_once(' ') {
        let n = n.trim();
        return match ty {
            "uint64" => n.parse().ok().map(Value::U64),
            "uint32" => n.parse().ok().map(Value::U32),
            "int32" => n.parse().ok().map(Value::I32),
            "boolean" => parse(n),
            _ => None,
        };
    }
    match v {
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        _ => {}
    }
    if v.len() >= 2
        && (v.starts_with('\'') && v.ends_with('\'') || v.starts_with('"') && v.ends_with('"'))
    {
        return Some(Value::Str(v[1..v.len() - 1].to_string()));
    }
    if let Ok(i) = v.parse::<i32>() {
        return Some(Value::I32(i));
    }
    v.parse::<f64>().ok().map(|_| Value::Str(v.to_string()))
}

#[cfg(test)]
mod tests {
    use super::super::wire::Value;
    use std::collections::HashMap;

    fn props(pairs: &[(&str, &str)]) -> crate::error::Result<Vec<Value>> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (format!("org.systemd.property.{}", k), v.to_string()))
            .collect();
        super::properties(&m)
    }

    #[test]
    fn annotations_become_properties() {
        let p = props(&[
            ("CollectMode", "'inactive-or-failed'"),
            ("TimeoutStopSec", "10"),
            ("RuntimeMaxSec", "1.5"),
            ("MemoryMin", "uint64 4096"),
            ("CPUWeight", "uint64 7"),
            ("IgnoreSIGPIPE", "false"),
        ])
        .unwrap();
        assert_eq!(
            p,
            vec![
                Value::prop("CPUWeight", Value::U64(7)),
                Value::prop("CollectMode", Value::str("inactive-or-failed")),
                Value::prop("IgnoreSIGPIPE", Value::Bool(false)),
                Value::prop("MemoryMin", Value::U64(4096)),
                Value::prop("RuntimeMaxUSec", Value::U64(1_500_000)),
                Value::prop("TimeoutStopUSec", Value::U64(10_000_000)),
            ]
        );
        let other: HashMap<String, String> = [("x.y".to_string(), "1".to_string())].into();
        assert!(super::properties(&other).unwrap().is_empty());
    }

    #[test]
    fn bad_annotations_are_refused() {
        assert!(props(&[("lower", "1")]).is_err());
        assert!(props(&[("Bad-Name", "1")]).is_err());
        assert!(props(&[("MemoryMin", "uint64 x")]).is_err());
        assert!(props(&[("TimeoutStopSec", "-1")]).is_err());
        assert!(props(&[("MemoryMin", "1.5")]).is_err());
    }
}
