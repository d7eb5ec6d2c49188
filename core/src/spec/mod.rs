//! config.json: loading it from a bundle and checking the rules the schema alone cannot express.

mod validate;

use crate::err;
use crate::error::{Context, Result};
use oci_spec::runtime::Spec;
use std::path::{Path, PathBuf};

pub use validate::{validate, validate_process};

/// A loaded bundle: its absolute path, its config and the absolute rootfs path.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub path: PathBuf,
    pub spec: Spec,
    pub rootfs: PathBuf,
}

/// The bundle directory, absolute.
fn bundle_dir(bundle: &Path) -> Result<PathBuf> {
    std::fs::canonicalize(bundle).map_err(|e| {
        let desc = crate::error::io_desc(&e);
        err!(NotFound, "bundle {}: {}", bundle.display(), desc)
    })
}

/// Loads and validates `<bundle>/config.json`.
pub fn load_bundle(bundle: &Path) -> Result<Bundle> {
    let path = bundle_dir(bundle)?;
    let config = path.join("config.json");
    let text = std::fs::read(&config).map_err(|e| {
        err!(
            NotFound,
            "{}: {}",
            config.display(),
            crate::error::io_desc(&e)
        )
    })?;
    let spec = parse_config(&text).map_err(|e| e.context(config.display()))?;
    let rootfs = rootfs_path(&path, &spec)?;
    validate(&spec)?;
    Ok(Bundle { path, spec, rootfs })
}

/// A bundle from a config given in memory: `bundle` (it must exist) is where a relative
/// `root.path` resolves and what the state records.
pub fn bundle_from_spec(bundle: &Path, spec: Spec) -> Result<Bundle> {
    let path = bundle_dir(bundle)?;
    let rootfs = rootfs_path(&path, &spec)?;
    validate(&spec)?;
    Ok(Bundle { path, spec, rootfs })
}

/// Parses config.json text; the error names the line and column.
pub fn parse_config(text: &[u8]) -> Result<Spec> {
    serde_json::from_slice::<Spec>(text)
        .map_err(|e| err!(InvalidSpec, "invalid config.json: {}", e))
}

/// `root.path`, made absolute against the bundle; it must exist and be a directory.
fn rootfs_path(bundle: &Path, spec: &Spec) -> Result<PathBuf> {
    let root = spec
        .root()
        .as_ref()
        .ok_or_else(|| err!(InvalidSpec, "config.json: root is missing"))?;
    let p = bundle.join(root.path());
    let meta = std::fs::metadata(&p).map_err(|e| {
        err!(
            NotFound,
            "rootfs {}: {}",
            p.display(),
            crate::error::io_desc(&e)
        )
    })?;
    if !meta.is_dir() {
        return Err(err!(InvalidSpec, "rootfs {}: not a directory", p.display()));
    }
    std::fs::canonicalize(&p).with_context(|| format!("rootfs {}", p.display()))
}
