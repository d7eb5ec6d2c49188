//! The wasm kind of workload: a container whose annotation `module.wasm.image/variant` is
//! `compat` or `compat-smart` runs its entrypoint, a WebAssembly module (a WASI preview 1
//! command), on rune's engine, liberpal-wasm.so (core/wasm), without an enclave: the init loads
//! the engine before the root switch and runs the module in place of an execve, as crun and
//! youki do. `compat-smart` runs a non-wasm entrypoint as a native one; `compat` refuses it.
//! `exec` and `kill` take the common path. (In an enclave, the same engine is an enclave
//! runtime: that is the enclave kind's, which comes first.)
//!
//! - `host.rs`: `create` finds the engine and opens it for the init.
//! - `init.rs`: the init's side. The FFI to the engine is the OS layer's, `sys::wasm_engine`.

mod host;
mod init;

use crate::sys::wasm_engine as engine;

use super::{Handler, Kind, Workload};
use crate::err;
use crate::error::{Error, Result};
use oci_spec::runtime::Spec;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::os::fd::OwnedFd;

/// The image annotation (the OCI wasm convention crun, youki and runwasi follow).
pub const ANNOTATION: &str = "module.wasm.image/variant";

/// How the entrypoint is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Variant {
    /// It must be a WebAssembly module.
    #[serde(rename = "compat")]
    Compat,
    /// A WebAssembly module runs on the engine; anything else is executed.
    #[serde(rename = "compat-smart")]
    CompatSmart,
}

impl Variant {
    fn parse(s: &str) -> Result<Variant> {
        match s {
            "compat" => Ok(Variant::Compat),
            "compat-smart" => Ok(Variant::CompatSmart),
            _ => Err(err!(
                InvalidSpec,
                "annotation {}={:?}: rune knows compat and compat-smart",
                ANNOTATION,
                s
            )),
        }
    }
}

/// The kind.
pub struct Wasm;

impl Kind for Wasm {
    fn name(&self) -> &'static str {
        host::KIND
    }

    fn claim(&self, spec: &mut Spec) -> Result<Option<Box<dyn Handler>>> {
        let given = spec.annotations().as_ref().and_then(|a| a.get(ANNOTATION));
        let Some(variant) = given.map(|v| Variant::parse(v)).transpose()? else {
            return Ok(None);
        };
        Ok(Some(Box::new(host::WasmHost::new(host::Record {
            variant,
            engine: engine::locate()?,
        }))))
    }

    fn handler(&self, record: &Value) -> Result<Box<dyn Handler>> {
        Ok(Box::new(host::WasmHost::new(super::parse(
            record,
            "wasm record",
        )?)))
    }

    fn workload(
        &self,
        config: &Value,
        fds: &mut dyn Iterator<Item = OwnedFd>,
    ) -> Result<Box<dyn Workload>> {
        init::select(config, fds)
    }

    fn proxy(&self, _conn: OwnedFd) -> (i32, Option<Error>) {
        let e = err!(Internal, "the wasm kind runs no process elsewhere");
        (1, Some(e))
    }
}
