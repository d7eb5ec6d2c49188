//! The state directory: `<root>/<id>/` per container, holding `state.json` (written atomically),
//! the `exec.fifo` of a created container, and sockets. Every read-modify-write of a container
//! happens under an exclusive `flock` on its directory, so two rune processes cannot corrupt it;
//! plain reads need no lock because `state.json` is only ever replaced by `rename`.
//!
//! Modes are explicit, whatever the caller's umask: the root and each container's directory
//! 0700, `state.json` 0600. A root that other users can write is refused by every command, so
//! no plain user can plant or swap a container's state (and with it the hooks root would run).

mod id;
mod state;
mod time;

pub use id::validate_id;
pub use state::State;
pub use time::rfc3339_now;

use crate::err;
use crate::error::{Context, Error, Result};
use crate::sys::flock::{lock_exclusive, ExclusiveLock};
use std::fs::{self, File};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

pub const STATE_FILE: &str = "state.json";
pub const EXEC_FIFO: &str = "exec.fifo";

/// The default root, as runc's: `/run/rune` for root; for another user
/// `$XDG_RUNTIME_DIR/rune`, else `/tmp/rune-<uid>`. The CLI's `--root` and librune's NULL root.
pub fn default_root() -> PathBuf {
    if crate::sys::euid() == 0 {
        return PathBuf::from("/run/rune");
    }
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d).join("rune"),
        None => PathBuf::from(format!("/tmp/rune-{}", crate::sys::uid())),
    }
}

/// The root holding every container's state directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// A container's state directory, locked exclusively while this value lives.
#[derive(Debug)]
pub struct LockedDir {
    path: PathBuf,
    _lock: ExclusiveLock,
}

impl Store {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Store { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn dir_of(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// Creates `<root>/<id>` (the atomic "exists" check) and locks it.
    pub fn create(&self, id: &str) -> Result<LockedDir> {
        validate_id(id)?;
        if !self.root.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&self.root)
                .with_context(|| format!("create state root {}", self.root.display()))?;
            crate::files::chmod(&self.root, 0o700)?;
        }
        self.check_root()?;
        let path = self.dir_of(id);
        match fs::DirBuilder::new().mode(0o700).create(&path) {
            Ok(()) => crate::files::chmod(&path, 0o700)?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(err!(
                    AlreadyExists,
                    "container with id {:?} already exists",
                    id
                ))
            }
            Err(e) => return Err(Error::io(format!("create {}", path.display()), e)),
        }
        lock(&path)
    }

    /// Refuses a root that users other than its owner can write (group or other write bit),
    /// or one owned by another user than the caller (root may use any root-owned one).
    pub fn check_root(&self) -> Result<()> {
        use std::os::unix::fs::MetadataExt;
        let meta = match fs::metadata(&self.root) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io(format!("stat {}", self.root.display()), e)),
        };
        let mode = meta.mode() & 0o7777;
        if mode & 0o022 != 0 {
            return Err(err!(
                PermissionDenied,
                "state root {} is writable by other users (mode {:04o}): refusing it; make it 0700",
                self.root.display(),
                mode
            ));
        }
        let euid = crate::sys::euid();
        if meta.uid() != euid && meta.uid() != 0 {
            return Err(err!(
                PermissionDenied,
                "state root {} belongs to uid {}, not to the caller (uid {}): refusing it",
                self.root.display(),
                meta.uid(),
                euid
            ));
        }
        Ok(())
    }

    /// Locks an existing container's directory.
    pub fn lock(&self, id: &str) -> Result<LockedDir> {
        validate_id(id)?;
        self.check_root()?;
        lock(&self.dir_of(id)).map_err(|e| match e.kind() {
            crate::ErrorKind::NotFound => not_found(id),
            _ => e,
        })
    }

    /// Reads a container's state without locking (state.json is replaced atomically).
    pub fn read(&self, id: &str) -> Result<State> {
        validate_id(id)?;
        self.check_root()?;
        State::read(&self.dir_of(id)).map_err(|e| match e.kind() {
            crate::ErrorKind::NotFound => not_found(id),
            _ => e,
        })
    }

    /// The ids of all containers under the root, sorted.
    pub fn ids(&self) -> Result<Vec<String>> {
        self.check_root()?;
        let entries = match fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(format!("read {}", self.root.display()), e)),
        };
        let mut ids: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|id| validate_id(id).is_ok())
            .collect();
        ids.sort();
        Ok(ids)
    }
}

pub fn not_found(id: &str) -> Error {
    err!(NotFound, "container {:?} does not exist", id)
}

fn lock(path: &Path) -> Result<LockedDir> {
    let f = File::open(path).with_context(|| format!("open {}", path.display()))?;
    let lock = lock_exclusive(f).map_err(|e| Error::io(format!("lock {}", path.display()), e))?;
    Ok(LockedDir {
        path: path.to_path_buf(),
        _lock: lock,
    })
}

impl LockedDir {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn read_state(&self) -> Result<State> {
        State::read(&self.path)
    }

    pub fn write_state(&self, state: &State) -> Result<()> {
        state.write(&self.path)
    }

    /// Removes the directory and everything in it; the lock goes with it.
    pub fn remove(self) -> Result<()> {
        match fs::remove_dir_all(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(format!("remove {}", self.path.display()), e)),
        }
    }
}
