//! Resource values the kernel would clamp or mangle without a word: refused up front, each
//! error naming the field and the range (runc's checks: cpu shares, swappiness).

use crate::err;
use crate::error::Result;
use oci_spec::runtime::LinuxResources;

/// cgroup v1's cpu.shares bounds (MIN_SHARES, MAX_SHARES of the scheduler).
const SHARES: (u64, u64) = (2, 262_144);

pub fn check(res: &LinuxResources) -> Result<()> {
    if let Some(s) = res
        .cpu()
        .as_ref()
        .and_then(|c| c.shares())
        .filter(|s| *s != 0)
    {
        // runc's words (it writes the value and reads back what the kernel clamped it to).
        let (which, bound) = if s < SHARES.0 {
            ("minimum", SHARES.0)
        } else {
            ("maximum", SHARES.1)
        };
        if s < SHARES.0 || s > SHARES.1 {
            return Err(err!(
                InvalidSpec,
                "linux.resources.cpu.shares {}: the {} allowed cpu-shares is {} (range {} to {})",
                s,
                which,
                bound,
                SHARES.0,
                SHARES.1
            ));
        }
    }
    if let Some(sw) = res.memory().as_ref().and_then(|m| m.swappiness()) {
        if sw > 100 {
            return Err(err!(
                InvalidSpec,
                "linux.resources.memory.swappiness {} is out of range (0 to 100)",
                sw
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;
    use oci_spec::runtime::LinuxResources;

    fn res(v: serde_json::Value) -> LinuxResources {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn out_of_range_values_name_the_field() {
        let e = check(&res(serde_json::json!({"cpu": {"shares": 1u64 << 62}}))).unwrap_err();
        assert!(e.to_string().contains("cpu.shares"), "{e}");
        assert!(check(&res(serde_json::json!({"cpu": {"shares": 1}}))).is_err());
        assert!(check(&res(serde_json::json!({"memory": {"swappiness": 101}}))).is_err());
        assert!(check(&res(serde_json::json!({"cpu": {"shares": 1024}}))).is_ok());
        assert!(check(&res(serde_json::json!({"cpu": {"shares": 0}}))).is_ok());
    }
}
