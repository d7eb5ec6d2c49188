//! Helpers of the rootfs unit tests: specs from a JSON fragment, and a scratch directory to
//! stand for the rootfs (the steps open descriptors in it; the fake kernel mounts nothing).

use oci_spec::runtime::Spec;
use std::path::{Path, PathBuf};

/// A config.json with `fields` (`"mounts":[...]`, `"linux":{...}`) over the required ones.
pub fn spec(fields: &str) -> Spec {
    let mut base = serde_json::json!({
        "ociVersion": "1.2.0",
        "process": {"args": ["sh"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
        "root": {"path": "rootfs"},
    });
    let extra: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&format!("{{{fields}}}")).unwrap();
    base.as_object_mut().unwrap().extend(extra);
    serde_json::from_value(base).unwrap()
}

/// A fresh directory under the temporary directory, removed on drop; `root` is its `rootfs`.
pub struct Scratch {
    pub dir: PathBuf,
    pub root: PathBuf,
}

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().canonicalize().unwrap().join(format!(
            "rune-unit-{}-{}",
            name,
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let root = dir.join("rootfs");
        std::fs::create_dir_all(&root).unwrap();
        Scratch { dir, root }
    }

    /// `p` (absolute, as in the container) under the rootfs.
    pub fn inside(&self, p: &str) -> PathBuf {
        self.root
            .join(Path::new(p).strip_prefix("/").unwrap_or(Path::new(p)))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
