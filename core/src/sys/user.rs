//! This process's user: its supplementary groups, gid and uid (set for all its threads, as the
//! C library does), and its effective gid.

use nix::unistd::{Gid, Uid};
use std::io;

/// setgroups(2): the supplementary groups.
pub fn set_groups(groups: &[u32]) -> io::Result<()> {
    let gids: Vec<Gid> = groups.iter().copied().map(Gid::from_raw).collect();
    nix::unistd::setgroups(&gids).map_err(io::Error::from)
}

/// setresgid(2): real, effective and saved gid all `gid`.
pub fn set_gid(gid: u32) -> io::Result<()> {
    let gid = Gid::from_raw(gid);
    nix::unistd::setresgid(gid, gid, gid).map_err(io::Error::from)
}

/// setresuid(2): real, effective and saved uid all `uid`.
pub fn set_uid(uid: u32) -> io::Result<()> {
    let uid = Uid::from_raw(uid);
    nix::unistd::setresuid(uid, uid, uid).map_err(io::Error::from)
}

/// The effective gid of this process (the unit tests' own ids).
#[cfg(test)]
pub fn egid() -> u32 {
    nix::unistd::getegid().as_raw()
}
