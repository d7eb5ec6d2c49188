//! The FFI to rune's wasm engine, liberpal-wasm.so (core/wasm/src/abi/plain.rs): where it is
//! installed, loading it, and its two calls for a plain wasm container (the wasm kind of
//! workload, `workload/wasm/`, uses them).

use crate::err;
use crate::error::{Error, Result};
use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
use std::ffi::{c_char, c_int, CStr, CString};
use std::path::{Path, PathBuf};

/// The library's file name.
pub const FILE: &str = "liberpal-wasm.so";
/// The variable that names the engine, before the places it is installed.
pub const ENV: &str = "RUNE_WASM_ENGINE";

type FnPrepare = unsafe extern "C" fn(*const c_char, *mut c_char, usize) -> c_int;
type FnRun = unsafe extern "C" fn(*const *const c_char, *const *const c_char) -> c_int;

/// Where the engine is: `$RUNE_WASM_ENGINE`, else beside the rune binary, in its
/// `../lib/rune/` (as `make install` puts it), in /usr/local/lib/rune or /usr/lib/rune.
pub fn locate() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(ENV) {
        let p = PathBuf::from(p);
        return match p.is_absolute() && p.is_file() {
            true => Ok(p),
            false => Err(err!(
                NotFound,
                "the wasm engine {} (from {}) is not a file given by an absolute path",
                p.display(),
                ENV
            )),
        };
    }
    let mut looked = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        looked.push(dir.join(FILE));
        looked.push(dir.join("../lib/rune").join(FILE));
    }
    looked.push(Path::new("/usr/local/lib/rune").join(FILE));
    looked.push(Path::new("/usr/lib/rune").join(FILE));
    if let Some(p) = looked.iter().find(|p| p.is_file()) {
        return Ok(p.clone());
    }
    let places: Vec<String> = looked.iter().map(|p| p.display().to_string()).collect();
    Err(err!(
        NotFound,
        "a wasm container needs rune's engine {}: not found in {} (build it with make, or set {})",
        FILE,
        places.join(", "),
        ENV
    ))
}

/// The loaded engine.
pub struct Engine {
    prepare: FnPrepare,
    run: FnRun,
    // Keeps the library mapped for as long as the function pointers above are used.
    _lib: Library,
}

impl Engine {
    /// dlopen()s the engine from `from` (a descriptor's /proc path) for the library at `path`,
    /// which the errors name, and resolves its two calls.
    pub fn load(from: &Path, path: &Path) -> Result<Engine> {
        // SAFETY: loading a library runs its initialisers; the engine is rune's own, found
        // where rune is installed.
        let lib = unsafe { Library::open(Some(from), RTLD_NOW | RTLD_LOCAL) }
            .map_err(|e| err!(NotFound, "load the wasm engine {}: {}", path.display(), e))?;
        let missing = |name: &str| {
            err!(
                NotFound,
                "the wasm engine {} has no {}: not rune's engine, or of another version",
                path.display(),
                name
            )
        };
        // SAFETY: the types are the engine's prototypes (core/wasm/src/abi/plain.rs).
        let prepare = unsafe { lib.get::<FnPrepare>(b"rune_wasm_prepare") }
            .map(|s| *s)
            .map_err(|_| missing("rune_wasm_prepare"))?;
        // SAFETY: as above.
        let run = unsafe { lib.get::<FnRun>(b"rune_wasm_run") }
            .map(|s| *s)
            .map_err(|_| missing("rune_wasm_run"))?;
        Ok(Engine {
            prepare,
            run,
            _lib: lib,
        })
    }

    /// Compiles the module at `path` and keeps it for [`Engine::run`].
    pub fn prepare(&self, path: &CStr) -> Result<()> {
        let mut msg = [0u8; 512];
        // SAFETY: path is NUL-terminated; msg has msg.len() writable bytes.
        let r = unsafe { (self.prepare)(path.as_ptr(), msg.as_mut_ptr().cast(), msg.len()) };
        if r == 0 {
            return Ok(());
        }
        let text = CStr::from_bytes_until_nul(&msg)
            .map(|c| c.to_string_lossy().into_owned())
            .unwrap_or_default();
        let kind = match -r {
            libc::ENOENT => crate::error::ErrorKind::NotFound,
            libc::EACCES | libc::EPERM => crate::error::ErrorKind::PermissionDenied,
            _ => crate::error::ErrorKind::InvalidSpec,
        };
        Err(Error::new(kind, text).with_errno(Some(-r)))
    }

    /// Runs the prepared module with this process's fds 0-2; returns its exit code.
    pub fn run(&self, argv: &[CString], envp: &[CString]) -> i32 {
        let list = |v: &[CString]| -> Vec<*const c_char> {
            v.iter()
                .map(|c| c.as_ptr())
                .chain([std::ptr::null()])
                .collect()
        };
        let (a, e) = (list(argv), list(envp));
        // SAFETY: both are NULL-terminated arrays of NUL-terminated strings that live (with
        // the CStrings they point into) across the call.
        unsafe { (self.run)(a.as_ptr(), e.as_ptr()) }
    }
}
