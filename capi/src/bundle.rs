//! A container given as a config JSON string instead of a bundle directory: the config is
//! written, with its `root.path` set to the given rootfs, into a private temporary bundle that
//! lives for the `rune_container_create` call only (core reads the bundle during create).
//!
//! A core option taking the parsed spec (`CreateOptions.config`) would make this file go away;
//! see the capi report.

use crate::error::{rune_result_t, Error, Result};
use serde_json::Value;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

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

/// A temporary bundle directory, removed on drop.
pub(crate) struct TempBundle {
    dir: PathBuf,
}

impl TempBundle {
    /// Writes `config` (with `root.path` = `rootfs` when given) into a new private directory
    /// under the temp dir.
    pub fn write(config: &Value, rootfs: Option<&Path>, id: &str) -> Result<TempBundle> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let mut config = config.clone();
        if let Some(r) = rootfs {
            let root = config
                .as_object_mut()
                .ok_or_else(|| Error::new(rune_result_t::InvalidSpec, "config is not an object"))?
                .entry("root")
                .or_insert_with(|| Value::Object(Default::default()));
            if !root.is_object() {
                *root = Value::Object(Default::default());
            }
            root["path"] = Value::String(r.to_string_lossy().into_owned());
        }
        let dir = std::env::temp_dir().join(format!(
            "rune-bundle-{}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed),
            id
        ));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(|e| io(&dir, "create", e))?;
        let bundle = TempBundle { dir };
        let text = serde_json::to_vec(&config)
            .map_err(|e| Error::new(rune_result_t::Internal, format!("serialize config: {e}")))?;
        let file = bundle.dir.join("config.json");
        std::fs::write(&file, text).map_err(|e| io(&file, "write", e))?;
        Ok(bundle)
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for TempBundle {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn io(p: &Path, what: &str, e: std::io::Error) -> Error {
    Error::from(rune_core::Error::io(
        format!("{what} temporary bundle {}", p.display()),
        e,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_configs_are_invalid_spec() {
        for bad in ["{", "[]", "{\"ociVersion\": 5}", "not json"] {
            let e = parse_config(bad).unwrap_err();
            assert_eq!(e.code, rune_result_t::InvalidSpec, "{bad}");
        }
    }

    #[test]
    fn the_bundle_holds_the_config_with_the_rootfs_and_goes_away() {
        let v = parse_config(r#"{"ociVersion": "1.0.2", "root": {"path": "x", "readonly": true}}"#)
            .unwrap();
        let b = TempBundle::write(&v, Some(Path::new("/srv/rootfs")), "t1").unwrap();
        let dir = b.path().to_path_buf();
        let text = std::fs::read_to_string(dir.join("config.json")).unwrap();
        let w: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(w["root"]["path"], "/srv/rootfs");
        assert_eq!(w["root"]["readonly"], true);
        drop(b);
        assert!(!dir.exists());
    }
}
