//! Switching to the process's user: groups, gid, uid; HOME from the container's /etc/passwd.

use crate::error::{Error, Result};
use oci_spec::runtime::User;

/// Sets supplementary groups, gid and uid (capabilities are kept by the caller's KEEPCAPS).
pub fn switch(user: &User) -> Result<()> {
    let groups: Vec<libc::gid_t> = user.additional_gids().clone().unwrap_or_default();
    // setgroups is refused in a user namespace whose setgroups file says deny; only a
    // problem when groups were asked for.
    // SAFETY: a valid array of gids.
    if unsafe { libc::setgroups(groups.len(), groups.as_ptr()) } != 0 {
        let e = std::io::Error::last_os_error();
        if !(groups.is_empty() && e.raw_os_error() == Some(libc::EPERM)) {
            return Err(Error::io(format!("setgroups {:?}", groups), e));
        }
    }
    let gid = user.gid();
    // SAFETY: setresgid with plain ids.
    if unsafe { libc::setresgid(gid, gid, gid) } != 0 {
        return Err(Error::io(
            format!("setgid {}", gid),
            std::io::Error::last_os_error(),
        ));
    }
    let uid = user.uid();
    // SAFETY: setresuid with plain ids.
    if unsafe { libc::setresuid(uid, uid, uid) } != 0 {
        return Err(Error::io(
            format!("setuid {}", uid),
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
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
