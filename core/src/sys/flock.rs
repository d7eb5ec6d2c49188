//! Advisory locks on whole files (flock(2)).

use std::fs::File;
use std::io;

/// An exclusive lock on a file, held while this value lives: dropping it unlocks (LOCK_UN,
/// for every descriptor of the open file) and closes the file.
#[derive(Debug)]
pub struct ExclusiveLock {
    _locked: nix::fcntl::Flock<File>,
}

/// Takes an exclusive lock on `file` (LOCK_EX), waiting for whoever holds one.
pub fn lock_exclusive(file: File) -> io::Result<ExclusiveLock> {
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
        .map(|locked| ExclusiveLock { _locked: locked })
        .map_err(|(_, e)| io::Error::from(e))
}
