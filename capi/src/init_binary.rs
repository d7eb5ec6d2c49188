//! Finding the rune binary that core runs as `rune init` for every container and exec'd
//! process. librune never runs Rust code in a forked child of the host (the host may be
//! multi-threaded); the child only executes this binary.
//!
//! Order: `rune_context_set_init_binary`, else `$RUNE_INIT_BINARY` (read by
//! `rune_context_new`), else `<libdir>/../libexec/rune/rune` next to the loaded librune, else
//! `rune` on `$PATH` (also read by `rune_context_new`).

use crate::error::{rune_result_t, Error, Result};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// What `rune_context_new` captured from the environment.
#[derive(Debug, Clone, Default)]
pub(crate) struct Env {
    pub rune_init_binary: Option<String>,
    pub path: Option<String>,
}

impl Env {
    pub fn capture() -> Env {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Env {
            rune_init_binary: get("RUNE_INIT_BINARY"),
            path: get("PATH"),
        }
    }
}

/// Checks that `p` is an executable regular file.
pub(crate) fn check(p: &Path) -> std::result::Result<(), String> {
    match std::fs::metadata(p) {
        Ok(m) if !m.is_file() => Err("not a regular file".into()),
        Ok(m) if m.permissions().mode() & 0o111 == 0 => Err("not executable".into()),
        Ok(_) => Ok(()),
        Err(e) => Err(rune_core::error::io_desc(&e)),
    }
}

fn not_found(msg: String) -> Error {
    Error::new(rune_result_t::NotFound, msg)
}

/// Resolves the init binary (see the module doc for the order).
pub(crate) fn resolve(explicit: Option<&Path>, env: &Env) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return check(p).map(|()| p.to_path_buf()).map_err(|why| {
            not_found(format!(
                "rune init binary {} (set by rune_context_set_init_binary): {why}",
                p.display()
            ))
        });
    }
    if let Some(v) = &env.rune_init_binary {
        let p = PathBuf::from(v);
        return check(&p).map(|()| p).map_err(|why| {
            not_found(format!(
                "rune init binary {v} (from RUNE_INIT_BINARY): {why}"
            ))
        });
    }
    let mut looked = Vec::new();
    match libexec_candidate() {
        Some(p) => match check(&p) {
            Ok(()) => return Ok(p),
            Err(why) => looked.push(format!("{} ({why})", p.display())),
        },
        None => looked.push("<libdir>/../libexec/rune/rune (librune's path unknown)".into()),
    }
    let path = env.path.as_deref().unwrap_or("");
    for dir in path.split(':').filter(|d| !d.is_empty()) {
        let p = Path::new(dir).join("rune");
        if check(&p).is_ok() {
            return Ok(p);
        }
    }
    looked.push(format!("rune in PATH ({path})"));
    Err(not_found(format!(
        "cannot find the rune binary to run as `rune init`: rune_context_set_init_binary was \
         not called, RUNE_INIT_BINARY was not set, and it is not at {}; install rune or set one \
         of the two",
        looked.join(" nor ")
    )))
}

/// `<dir of the loaded librune>/../libexec/rune/rune` (for a static link: of the executable).
fn libexec_candidate() -> Option<PathBuf> {
    // SAFETY: an all-zero Dl_info is a valid out-parameter for dladdr.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    let addr = libexec_candidate as fn() -> Option<PathBuf> as *const libc::c_void;
    // SAFETY: dladdr with an address inside this library and a valid Dl_info.
    if unsafe { libc::dladdr(addr, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated path owned by the dynamic linker.
    let lib = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) };
    let lib = std::fs::canonicalize(lib.to_str().ok()?).ok()?;
    Some(lib.parent()?.join("../libexec/rune/rune"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_and_env_paths_are_checked() {
        let e = resolve(Some(Path::new("/nonexistent/rune")), &Env::default()).unwrap_err();
        assert_eq!(e.code, rune_result_t::NotFound);
        assert!(e.msg.contains("/nonexistent/rune"), "{}", e.msg);
        assert!(e.msg.contains("No such file"), "{}", e.msg);
        let ok = resolve(Some(Path::new("/bin/sh")), &Env::default()).unwrap();
        assert_eq!(ok, Path::new("/bin/sh"));
        let env = Env {
            rune_init_binary: Some("/etc/passwd".into()),
            path: None,
        };
        let e = resolve(None, &env).unwrap_err();
        assert!(e.msg.contains("RUNE_INIT_BINARY"), "{}", e.msg);
        assert!(e.msg.contains("not executable"), "{}", e.msg);
    }

    #[test]
    fn the_error_names_every_place_it_looked() {
        let env = Env {
            rune_init_binary: None,
            path: Some("/nonexistent-a:/nonexistent-b".into()),
        };
        let e = resolve(None, &env).unwrap_err();
        assert!(e.msg.contains("libexec/rune/rune"), "{}", e.msg);
        assert!(e.msg.contains("/nonexistent-a:/nonexistent-b"), "{}", e.msg);
        assert!(e.msg.contains("RUNE_INIT_BINARY"), "{}", e.msg);
    }
}
