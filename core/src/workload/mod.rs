//! Kinds of workload, each in one place covering both sides of a container: what `create`
//! checks, records and passes to the init ([`Handler`]), how `exec`, `kill` and `attest` reach
//! the running workload (the same handler, rebuilt from the record), and what the init does once
//! the container is set up ([`Workload`]). A kind is chosen once, at create, from the config;
//! the init's steps (`process::setup`) and the verbs (`container/`) call these traits and know
//! no kind.
//!
//! - `native.rs`: the init executes the entrypoint. The fallback: what no kind claims.
//! - `enclave/`: an enclave runtime (PAL) loaded by the init, which keeps the enclave; the
//!   entrypoint and each exec run inside it.
//! - `wasm/`: a WebAssembly entrypoint run by the init on rune's engine (no enclave).
//!
//! A new kind is a folder here implementing [`Kind`], and its line in [`KINDS`].

pub mod enclave;
mod native;
pub mod wasm;

use crate::err;
use crate::error::{Error, Result};
use crate::program::Program;
use oci_spec::runtime::{Process, Spec};
use serde_json::Value;
use std::collections::BTreeMap;
use std::os::fd::{OwnedFd, RawFd};
use std::path::{Path, PathBuf};

/// The kinds besides native, asked in order which one a config is.
static KINDS: &[&dyn Kind] = &[&enclave::Enclave, &wasm::Wasm];

/// A kind of workload.
pub trait Kind: Sync {
    /// Its name: the key of its record in state.json and its tag in the init's config.
    fn name(&self) -> &'static str;
    /// `create`: its handler when config.json asks for this kind (it may change the spec: the
    /// devices it needs, settings it takes out of the environment).
    fn claim(&self, spec: &mut Spec) -> Result<Option<Box<dyn Handler>>>;
    /// The handler of a created container, from what [`Handler::record`] kept.
    fn handler(&self, record: &Value) -> Result<Box<dyn Handler>>;
    /// The init's side, from what [`Handler::bind`] sent and the descriptors it passed (next
    /// after the exec fifo).
    fn workload(
        &self,
        config: &Value,
        fds: &mut dyn Iterator<Item = OwnedFd>,
    ) -> Result<Box<dyn Workload>>;
    /// A `rune init` that stands for a process this kind runs elsewhere, over `conn` (see
    /// [`Handler::exec`]); returns its exit code and an error nobody else was told of.
    fn proxy(&self, conn: OwnedFd) -> (i32, Option<Error>);
}

/// A created container as its verbs see it.
pub struct At<'a> {
    pub id: &'a str,
    /// Its state directory (where a kind may keep a socket).
    pub state_dir: &'a Path,
    pub init_pid: i32,
    /// Its status, as `state` says it.
    pub status: &'a str,
}

impl At<'_> {
    pub fn running(&self) -> bool {
        self.status == "running"
    }
}

/// A process a kind started elsewhere for `exec`: a proxy process stands for it on the host.
pub struct Elsewhere {
    /// The kind, whose proxy stands for the process ([`Kind::proxy`]).
    pub kind: &'static str,
    /// The connection the proxy carries (signals in, the exit code out).
    pub conn: OwnedFd,
    /// The pty's master, when the process has a terminal.
    pub pty_master: Option<OwnedFd>,
}

/// The host side of a kind: one per container, chosen at create, rebuilt from the record.
pub trait Handler {
    /// `create`, before the init is spawned: the init's config and the descriptors it gets
    /// after the exec fifo (e.g. a socket bound in the state directory).
    fn bind(&mut self, spec: &Spec, state_dir: &Path) -> Result<(WorkloadConfig, Vec<OwnedFd>)>;
    /// `create`: the init reported Ready (with its enclave runtime's PAL version, or 0).
    fn ready(&mut self, pal_version: u32);
    /// What state.json keeps: the kind's record under [`Kind::name`] (nothing for native).
    fn record(&self) -> Record;
    /// `exec`: Some when this kind runs exec'd processes itself.
    fn exec(&self, at: &At, process: &Process) -> Option<Result<Elsewhere>>;
    /// `kill`: Some when this kind delivers `sig` itself.
    fn signal(&self, at: &At, sig: i32) -> Option<Result<()>>;
    /// `attest`: a local attestation report.
    fn attest(&self, at: &At, target_info: &[u8]) -> Result<Vec<u8>> {
        let _ = target_info;
        Err(err!(InvalidArgument, "container {} has no enclave", at.id))
    }
}

/// What state.json keeps of the workload: each kind's record under its name (flattened into
/// the state, so an enclave's is the `enclave` key); empty for native.
pub type Record = BTreeMap<String, Value>;

/// The init's side of the workload, as create sends it: the kind (None: native) and its config.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct WorkloadConfig {
    pub kind: Option<String>,
    #[serde(default)]
    pub config: Value,
}

/// `create`: the kind config.json asks for (native when none claims it).
pub fn claim(spec: &mut Spec) -> Result<Box<dyn Handler>> {
    for k in KINDS {
        if let Some(h) = k.claim(spec)? {
            return Ok(h);
        }
    }
    Ok(Box::new(native::Native))
}

/// The handler of a created container, from its record.
pub fn handler(record: &Record) -> Result<Box<dyn Handler>> {
    for k in KINDS {
        if let Some(r) = record.get(k.name()) {
            return k.handler(r);
        }
    }
    Ok(Box::new(native::Native))
}

/// A kind's record or init config out of its JSON; `what` names it in the error.
fn parse<T: serde::de::DeserializeOwned>(value: &Value, what: &str) -> Result<T> {
    serde_json::from_value(value.clone()).map_err(|e| err!(Internal, "corrupt {}: {}", what, e))
}

fn kind_named(name: &str) -> Result<&'static dyn Kind> {
    KINDS
        .iter()
        .copied()
        .find(|k| k.name() == name)
        .ok_or_else(|| err!(Internal, "unknown kind of workload {:?}", name))
}

/// The steps of the init that differ with the workload, in the order the init calls them.
pub trait Workload {
    /// The descriptors it was given, to be kept open when the init closes the caller's.
    fn fds(&self) -> Vec<RawFd>;
    /// Before the mounts and the root switch, while host paths still resolve.
    fn load(&mut self) -> Result<()>;
    /// Resolves the program to run in the container (`name` as execvp would, with `env`).
    fn resolve(&self, name: &str, env: &[String]) -> Result<PathBuf>;
    /// The process is prepared (identity, seccomp) to run `program`; the init is about to
    /// report Ready. `calling` tells the host which outside call (e.g. `pal_init`) comes next,
    /// for its error if the init dies in it. Returns the PAL version the record keeps (0
    /// without an enclave runtime).
    fn ready(&mut self, program: &Program, calling: &dyn Fn(&str) -> Result<()>) -> Result<u32>;
    /// `start` came: runs the program. Returns how the init ends (a native workload only
    /// returns on failure). `fifo` is the exec fifo, held until the program is handed over.
    fn run(self: Box<Self>, program: Program, fifo: OwnedFd) -> Result<i32>;
}

/// The init's workload of `config`, taking its descriptors from `fds`.
pub fn select(
    config: &WorkloadConfig,
    fds: &mut dyn Iterator<Item = OwnedFd>,
) -> Result<Box<dyn Workload>> {
    match &config.kind {
        None => Ok(Box::new(native::Native)),
        Some(k) => kind_named(k)?.workload(&config.config, fds),
    }
}

/// A `rune init` told to be a proxy for a process kind `kind` runs elsewhere, over `conn`.
pub fn proxy(kind: &str, conn: OwnedFd) -> (i32, Option<Error>) {
    match kind_named(kind) {
        Ok(k) => k.proxy(conn),
        Err(e) => (1, Some(e)),
    }
}
