//! The init's side of a wasm container: it loads the engine before the root switch; once the
//! container is set up it looks at the entrypoint: a WebAssembly module is compiled there (so a
//! bad one fails `create`, naming the cause), anything else is executed (`compat-smart`) or
//! refused (`compat`). After `start` the module runs in the init, its exit code the init's.

use super::host::Record;
use super::Variant;
use crate::err;
use crate::error::Result;
use crate::program::{lookup, lookup_file, Program};
use crate::sys::wasm_engine::Engine;
use crate::workload::Workload;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

/// The init's workload from the record `host::bind` sent, with the engine's descriptor.
pub(super) fn select(
    config: &serde_json::Value,
    fds: &mut dyn Iterator<Item = OwnedFd>,
) -> Result<Box<dyn Workload>> {
    let record: Record = crate::workload::parse(config, "wasm init config")?;
    let opened = fds
        .next()
        .ok_or_else(|| err!(Internal, "wasm config without the engine's descriptor"))?;
    Ok(Box::new(WasmInit {
        record,
        opened: Some(opened),
        engine: None,
        native: false,
    }))
}

struct WasmInit {
    record: Record,
    /// The engine as `rune create` opened it.
    opened: Option<OwnedFd>,
    engine: Option<Engine>,
    /// `compat-smart` with an entrypoint that is not a module: executed.
    native: bool,
}

/// Whether the file at `path` starts with the WebAssembly magic.
fn is_module(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| &magic == b"\0asm")
}

impl Workload for WasmInit {
    fn fds(&self) -> Vec<RawFd> {
        self.opened.iter().map(|f| f.as_raw_fd()).collect()
    }

    /// From the descriptor `create` opened (the same file as the recorded path, which the
    /// errors name), while host paths still resolve.
    fn load(&mut self) -> Result<()> {
        let fd = self
            .opened
            .take()
            .ok_or_else(|| err!(Internal, "the wasm engine is loaded already"))?;
        let from = crate::sys::fd_path(fd.as_raw_fd());
        self.engine = Some(Engine::load(&from, &self.record.engine)?);
        Ok(())
    }

    /// As execvp would; a module need not be executable: a file found the same way does.
    fn resolve(&self, name: &str, env: &[String]) -> Result<PathBuf> {
        lookup(name, env).or_else(|e| lookup_file(name, env).map_err(|_| e))
    }

    fn ready(&mut self, program: &Program, _calling: &dyn Fn(&str) -> Result<()>) -> Result<u32> {
        let path = PathBuf::from(program.path.to_string_lossy().into_owned());
        if !is_module(&path) {
            return match self.record.variant {
                Variant::CompatSmart => {
                    self.native = true;
                    self.engine = None;
                    lookup(&path.to_string_lossy(), &[]).map(|_| 0)
                }
                Variant::Compat => Err(err!(
                    InvalidSpec,
                    "{}=compat: the entrypoint {} is not a WebAssembly module",
                    super::ANNOTATION,
                    path.display()
                )),
            };
        }
        let engine = self
            .engine
            .as_ref()
            .ok_or_else(|| err!(Internal, "no wasm engine"))?;
        engine.prepare(program.path.as_c_str())?;
        Ok(0)
    }

    fn run(self: Box<Self>, program: Program, fifo: OwnedFd) -> Result<i32> {
        if self.native {
            let e = program.exec();
            drop(fifo);
            return Err(e);
        }
        let engine = self
            .engine
            .ok_or_else(|| err!(Internal, "no wasm engine"))?;
        // `start` sees the last reader of the fifo go as the module is handed over.
        drop(fifo);
        Ok(engine.run(&program.argv, &program.envp))
    }
}
