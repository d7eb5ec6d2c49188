//! The `Container` handle and its lifecycle, one file per verb.

mod attest;
mod create;
mod delete;
mod driver;
mod exec;
mod init_failure;
mod kill;
mod pause;
mod process;
mod start;
mod status;
mod update;

pub use create::{CreateOptions, Created};
pub use exec::{ExecOptions, Execed};
pub use process::{merge_env, process_from_json, ProcessOverrides};
pub use status::Status;

use crate::error::Result;
use crate::store::{State, Store};
use serde_json::{json, Value};

/// A container known to the store.
#[derive(Debug, Clone)]
pub struct Container {
    store: Store,
    state: State,
}

impl Container {
    /// Loads a container's state (no lock: state.json is replaced atomically).
    pub fn load(store: &Store, id: &str) -> Result<Container> {
        Ok(Container {
            store: store.clone(),
            state: store.read(id)?,
        })
    }

    pub fn id(&self) -> &str {
        &self.state.id
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// The init's pid while it is alive, else 0.
    pub fn pid(&self) -> i32 {
        match self.status() {
            Status::Stopped => 0,
            _ => self.state.init_pid,
        }
    }

    pub fn status(&self) -> Status {
        status::derive(&self.store, &self.state)
    }

    /// The container as its kind of workload sees it (`dir`: its state directory).
    fn at<'a>(&'a self, dir: &'a std::path::Path, status: Status) -> crate::workload::At<'a> {
        crate::workload::At {
            id: self.id(),
            state_dir: dir,
            init_pid: self.state.init_pid,
            status: status.as_str(),
        }
    }

    /// The state document of state-schema.json, with runc's extra fields.
    pub fn oci_state(&self) -> Value {
        let status = self.status();
        oci_state_value(
            &self.state,
            status,
            if status == Status::Stopped {
                0
            } else {
                self.state.init_pid
            },
        )
    }

    /// All containers of a store, skipping directories without a readable state.
    pub fn list(store: &Store) -> Result<Vec<Container>> {
        Ok(store
            .ids()?
            .into_iter()
            .filter_map(|id| Container::load(store, &id).ok())
            .collect())
    }

    /// The containers' OCI states as `list --format json` prints them: runc encodes a nil
    /// slice when there is no container, `null` (which jq and runc's callers expect), not `[]`.
    pub fn list_json(all: &[Container]) -> Value {
        if all.is_empty() {
            return Value::Null;
        }
        Value::Array(all.iter().map(Container::oci_state).collect())
    }
}

pub(crate) fn oci_state_value(s: &State, status: Status, pid: i32) -> Value {
    // runc's field order (its containerState): annotations, when there are any, before owner.
    let mut v = json!({
        "ociVersion": crate::OCI_VERSION,
        "id": s.id,
        "pid": pid,
        "status": status.as_str(),
        "bundle": s.bundle,
        "rootfs": s.rootfs,
        "created": s.created,
    });
    if !s.annotations.is_empty() {
        let mut ann: Vec<(&String, &String)> = s.annotations.iter().collect();
        ann.sort();
        let map: serde_json::Map<String, Value> = ann
            .into_iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        v["annotations"] = Value::Object(map);
    }
    v["owner"] = json!(s.owner);
    v
}
