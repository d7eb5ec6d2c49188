//! The program a container process runs: found as execvp would find it, ready for execve.

use crate::err;
use crate::error::{Error, Result};
use crate::sys;
use std::ffi::CString;
use std::path::{Path, PathBuf};

/// The program to execute (or to hand to an enclave runtime).
pub struct Program {
    pub path: CString,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
}

impl Program {
    pub fn new(path: &Path, args: &[String], env: &[String]) -> Result<Program> {
        let c = |s: &str| CString::new(s).map_err(|_| err!(InvalidSpec, "{:?} contains NUL", s));
        Ok(Program {
            path: sys::cstr(path)?,
            argv: args.iter().map(|a| c(a)).collect::<Result<_>>()?,
            envp: env.iter().map(|e| c(e)).collect::<Result<_>>()?,
        })
    }

    /// Executes it in place of this process; returns only the failure.
    pub fn exec(&self) -> Error {
        sys::exec::execve(&self.path, &self.argv, &self.envp)
    }

    /// Its path, arguments and environment as strings (for an enclave runtime).
    pub fn strings(&self) -> (String, Vec<String>, Vec<String>) {
        let s = |c: &CString| c.to_string_lossy().into_owned();
        (
            s(&self.path),
            self.argv.iter().map(s).collect(),
            self.envp.iter().map(s).collect(),
        )
    }
}

/// Finds the executable as execvp would, with the container's PATH.
pub fn lookup(name: &str, env: &[String]) -> Result<PathBuf> {
    search(name, env, &|p: &Path| {
        let meta = std::fs::metadata(p)
            .map_err(|e| Error::io(format!("exec: {:?}: stat {}", name, p.display()), e))?;
        if meta.is_dir() || !sys::exec::may_execute(p)? {
            return Err(Error::os(format!("exec: {:?}", name), libc::EACCES));
        }
        Ok(())
    })
}

/// Finds a regular file as execvp would find an executable (a path as given, else along the
/// container's PATH), whether or not it may be executed: a program an engine runs (a
/// WebAssembly module).
pub fn lookup_file(name: &str, env: &[String]) -> Result<PathBuf> {
    search(name, env, &|p: &Path| match p.is_file() {
        true => Ok(()),
        false => Err(Error::os(
            format!("{:?}: no file {}", name, p.display()),
            libc::ENOENT,
        )),
    })
}

/// `name` as given when it holds a slash (`check` says why not), else the first directory of
/// PATH where `check` accepts it.
fn search(name: &str, env: &[String], check: &dyn Fn(&Path) -> Result<()>) -> Result<PathBuf> {
    if name.contains('/') {
        check(Path::new(name))?;
        return Ok(PathBuf::from(name));
    }
    let path = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("");
    for dir in path.split(':').filter(|d| !d.is_empty()) {
        let p = Path::new(dir).join(name);
        if check(&p).is_ok() {
            return Ok(p);
        }
    }
    Err(err!(
        NotFound,
        "exec: {:?}: executable file not found in $PATH",
        name
    ))
}
