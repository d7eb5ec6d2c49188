//! One WebAssembly module run as a WASI preview 1 command, on wasmi: compiled (validated) first,
//! then instantiated with its arguments, environment and stdio and its `_start` called.
//!
//! What the module sees: `argv` as its arguments, `env` as its environment, the process's
//! fds 0, 1 and 2 as its stdio, and `/` (the container's root, where it runs) as its first
//! preopened directory, WASI fd 3. How it ends: `proc_exit(n)` or a return from `_start` (0)
//! is its exit code; a trap is [`TRAP_EXIT`] with a message naming the trap on its stderr.

use wasmi::{Config, Engine, Linker, Module, Store};
use wasmi_wasi::{ambient_authority, Dir, WasiCtx, WasiCtxBuilder, WasiFile};

/// The exit code of a module that trapped: 128 + SIGABRT, as wasmtime's command line gives.
pub const TRAP_EXIT: i32 = 134;

/// A validated module, ready to run (as many times as asked, each in a fresh instance).
pub struct Compiled {
    engine: Engine,
    module: Module,
    /// Its path, for messages.
    path: String,
}

/// Why a module could not be compiled: the errno it maps to, and the message.
#[derive(Debug)]
pub struct LoadError {
    pub errno: i32,
    pub message: String,
}

/// The WebAssembly binary magic, `\0asm`.
pub const MAGIC: &[u8; 4] = b"\0asm";

/// Reads and validates the module at `path`.
pub fn compile(path: &str) -> Result<Compiled, LoadError> {
    let bytes = std::fs::read(path).map_err(|e| LoadError {
        errno: e.raw_os_error().unwrap_or(libc::EIO),
        message: format!("cannot read WebAssembly module {path}: {e}"),
    })?;
    if !bytes.starts_with(MAGIC) {
        return Err(LoadError {
            errno: libc::ENOEXEC,
            message: format!("{path} is not a WebAssembly module (no \\0asm header)"),
        });
    }
    let engine = Engine::new(&Config::default());
    let module = Module::new(&engine, &bytes[..]).map_err(|e| LoadError {
        errno: libc::ENOEXEC,
        message: format!("invalid WebAssembly module {path}: {e}"),
    })?;
    Ok(Compiled {
        engine,
        module,
        path: path.to_string(),
    })
}

impl Compiled {
    /// Runs it as a WASI command and returns its exit code; what went wrong (a trap, a missing
    /// import or `_start`) is written to fd 2 first.
    pub fn run(&self, argv: &[String], env: &[String]) -> i32 {
        match self.start(argv, env) {
            Ok(code) => code,
            Err((code, message)) => {
                say(&format!("rune-wasm: {}: {message}\n", self.path));
                code
            }
        }
    }

    fn start(&self, argv: &[String], env: &[String]) -> Result<i32, (i32, String)> {
        let ctx = wasi_ctx(argv, env).map_err(|m| (1, m))?;
        let mut linker = <Linker<WasiCtx>>::new(&self.engine);
        wasmi_wasi::add_to_linker(&mut linker, |c| c).map_err(|e| (1, e.to_string()))?;
        let mut store = Store::new(&self.engine, ctx);
        let instance = linker
            .instantiate_and_start(&mut store, &self.module)
            .map_err(|e| ended(e, "instantiate"))?;
        let start = instance
            .get_typed_func::<(), ()>(&store, "_start")
            .map_err(|e| (1, format!("not a WASI command: no _start function ({e})")))?;
        match start.call(&mut store, ()) {
            Ok(()) => Ok(0),
            Err(e) => match e.i32_exit_status() {
                Some(code) => Ok(code),
                None => Err(ended(e, "run")),
            },
        }
    }
}

/// An error out of the module: a trap ([`TRAP_EXIT`], "trap: <what>") or another failure (1).
fn ended(e: wasmi::Error, doing: &str) -> (i32, String) {
    if let Some(code) = e.i32_exit_status() {
        return (code, String::new());
    }
    match e.as_trap_code() {
        Some(trap) => (TRAP_EXIT, format!("trap: {trap}")),
        None => (1, format!("{doing}: {e}")),
    }
}

/// The WASI context: arguments, environment (`NAME=value` strings; one without `=` is a name
/// with an empty value), fds 0-2 and `/` preopened.
fn wasi_ctx(argv: &[String], env: &[String]) -> Result<WasiCtx, String> {
    let mut b = WasiCtxBuilder::new();
    b.args(argv).map_err(|e| format!("arguments: {e}"))?;
    let pairs: Vec<(String, String)> = env
        .iter()
        .map(|e| match e.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (e.clone(), String::new()),
        })
        .collect();
    b.envs(&pairs).map_err(|e| format!("environment: {e}"))?;
    if let Some(f) = stdio(0) {
        b.stdin(f);
    }
    if let Some(f) = stdio(1) {
        b.stdout(f);
    }
    if let Some(f) = stdio(2) {
        b.stderr(f);
    }
    let root = Dir::open_ambient_dir("/", ambient_authority())
        .map_err(|e| format!("open / to preopen it: {e}"))?;
    b.preopened_dir(root, "/")
        .map_err(|e| format!("preopen /: {e}"))?;
    Ok(b.build())
}

/// fd `fd` of this process as a WASI file, used through its own descriptor: a duplicate, so
/// that the module closing its stdio leaves ours alone, and no lock of Rust's std (a forked
/// child of a threaded process must not take a lock another thread held). None when `fd` is
/// not open: the module then has no such stdio (EBADF).
fn stdio(fd: i32) -> Option<Box<dyn WasiFile>> {
    let file = crate::sys::dup_file(fd)?;
    Some(Box::new(wasmi_wasi::sync::file::File::from_cap_std(
        cap_std::fs::File::from_std(file),
    )))
}

/// Writes `s` to fd 2 (no lock, no allocation), ignoring failures.
pub fn say(s: &str) {
    say_on(2, s)
}

/// [`say`] on `fd`.
pub fn say_on(fd: i32, s: &str) {
    crate::sys::write_all(fd, s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(bytes: &[u8]) -> (tempfile::TempDir, String) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("m.wasm");
        std::fs::write(&p, bytes).unwrap();
        (d, p.to_string_lossy().into_owned())
    }

    #[test]
    fn what_is_not_a_module_is_refused_with_its_errno() {
        let e = compile("/nonexistent/m.wasm").err().unwrap();
        assert_eq!(e.errno, libc::ENOENT);
        let (_d, p) = file(b"#!/bin/sh\n");
        let e = compile(&p).err().unwrap();
        assert_eq!(e.errno, libc::ENOEXEC);
        assert!(
            e.message.contains("not a WebAssembly module"),
            "{}",
            e.message
        );
        let (_d, p) = file(b"\0asm\x01\0\0\0\xff");
        let e = compile(&p).err().unwrap();
        assert_eq!(e.errno, libc::ENOEXEC);
        assert!(
            e.message.contains("invalid WebAssembly module"),
            "{}",
            e.message
        );
    }

    /// The empty module is valid but no command: it runs to exit code 1, saying so.
    #[test]
    fn a_module_without_start_is_no_command() {
        let (_d, p) = file(b"\0asm\x01\0\0\0");
        let c = compile(&p).unwrap();
        assert_eq!(c.start(&[], &[]).unwrap_err().0, 1);
    }
}
