//! The host side of a wasm container: `create` opens the engine for the init (O_PATH: not
//! read, not loaded), which loads it from that descriptor where its uid cannot reach the path;
//! `exec` and `kill` take the common path.

use super::Variant;
use crate::err;
use crate::error::Result;
use crate::workload::{At, Elsewhere, Handler, WorkloadConfig};
use oci_spec::runtime::{Process, Spec};
use serde::{Deserialize, Serialize};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// The kind's name: its record's key in state.json.
pub(super) const KIND: &str = "wasm";

/// What state.json keeps, and what the init gets (the engine's descriptor after the fifo).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Record {
    pub variant: Variant,
    /// liberpal-wasm.so, as `create` found it.
    pub engine: PathBuf,
}

pub(super) struct WasmHost {
    record: Record,
}

impl WasmHost {
    pub fn new(record: Record) -> WasmHost {
        WasmHost { record }
    }
}

impl Handler for WasmHost {
    fn bind(&mut self, _spec: &Spec, _state_dir: &Path) -> Result<(WorkloadConfig, Vec<OwnedFd>)> {
        let engine = crate::sys::fd::open_path(&self.record.engine).map_err(|e| {
            let what = format!("open the wasm engine {}", self.record.engine.display());
            crate::Error::io(what, e)
        })?;
        let config = serde_json::to_value(&self.record)
            .map_err(|e| err!(Internal, "serialize the wasm init config: {}", e))?;
        Ok((
            WorkloadConfig {
                kind: Some(KIND.into()),
                config,
            },
            vec![engine],
        ))
    }

    fn ready(&mut self, _pal_version: u32) {}

    fn record(&self) -> crate::workload::Record {
        let value = serde_json::to_value(&self.record).unwrap_or_default();
        crate::workload::Record::from([(KIND.to_string(), value)])
    }

    fn exec(&self, _at: &At, _process: &Process) -> Option<Result<Elsewhere>> {
        None
    }

    fn signal(&self, _at: &At, _sig: i32) -> Option<Result<()>> {
        None
    }
}
