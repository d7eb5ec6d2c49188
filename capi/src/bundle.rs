//! A container given as a config JSON string instead of a bundle directory: the config is
//! parsed (with its `root.path` set to the given rootfs) and handed to core in memory.

use crate::error::{rune_result_t, Error, Result};
use serde_json::Value;
use std::path::Path;

/// Parses and checks a config JSON string (`RUNE_RESULT_INVALID_SPEC` when it does not parse).
pub(crate) fn parse_config(json: &str) -> Result<Value> {
    rune_core::spec::parse_config(json.as_bytes())?;
    let v: Value = serde_json::from_str(json).map_err(|e| {
        Error::new(
            rune_result_t::InvalidSpec,
            format!("invalid config JSON: {e}"),
        )
    })?;
    if !v.is_object() {
        return Err(Error::new(
            rune_result_t::InvalidSpec,
            "invalid config JSON: not an object",
        ));
    }
    Ok(v)
}

/// Sets `root.path` of a config to `rootfs` (the rootfs given next to a config string).
pub(crate) fn set_root_path(config: &mut Value, rootfs: &Path) -> Result<()> {
    let root = config
        .as_object_mut()
        .ok_or_else(|| Error::new(rune_result_t::InvalidSpec, "config is not an object"))?
        .entry("root")
        .or_insert_with(|| Value::Object(Default::default()));
    if !root.is_object() {
        *root = Value::Object(Default::default());
    }
    root["path"] = Value::String(rootfs.to_string_lossy().into_owned());
    Ok(())
}
