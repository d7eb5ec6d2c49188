//! Switching to the process's user: groups, gid, uid; HOME from the container's /etc/passwd.

use crate::error::{Context, Error, Result};
use nix::errno::Errno;
use nix::unistd::{setgroups, setresgid, setresuid, Gid, Uid};
use oci_spec::runtime::User;

/// Sets supplementary groups, gid and uid (capabilities are kept by the caller's KEEPCAPS).
pub fn switch(user: &User) -> Result<()> {
    let groups: Vec<libc::gid_t> = user.additional_gids().clone().unwrap_or_default();
    // setgroups is refused in a user namespace whose setgroups file says deny; only a
    // problem when groups were asked for.
    let gids: Vec<Gid> = groups.iter().copied().map(Gid::from_raw).collect();
    if let Err(e) = setgroups(&gids) {
        if !(groups.is_empty() && e == Errno::EPERM) {
            return Err(Error::os(format!("setgroups {:?}", groups), e as i32));
        }
    }
    let gid = Gid::from_raw(user.gid());
    setresgid(gid, gid, gid).with_context(|| format!("setgid {}", gid))?;
    let uid = Uid::from_raw(user.uid());
    setresuid(uid, uid, uid).with_context(|| format!("setuid {}", uid))
}

/// The home directory of `uid` in the container's /etc/passwd, or "/".
pub fn home_of(uid: u32) -> String {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 6 && f[2].parse::<u32>().ok() == Some(uid)).then(|| f[5].to_string())
        })
        .next()
        .unwrap_or_else(|| "/".into())
}
