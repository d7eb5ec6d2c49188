//! process.rlimits.

use crate::error::{Context, Result};
use crate::sys::rlimit::{self, Limit};
use oci_spec::runtime::PosixRlimit;

pub fn apply(limits: &[PosixRlimit]) -> Result<()> {
    for l in limits {
        let name = serde_json::to_value(l.typ())
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let res = Limit::by_name(&name)
            .ok_or_else(|| crate::err!(InvalidSpec, "unknown rlimit {:?}", name))?;
        rlimit::set(res, l.soft(), l.hard())
            .with_context(|| format!("set {} to soft {} hard {}", name, l.soft(), l.hard()))?;
    }
    Ok(())
}
