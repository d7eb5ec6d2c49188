//! Switching to the process's user: groups, gid, uid; HOME from the container's /etc/passwd.

use crate::error::{Context, Error, Result};
use crate::sys;
use oci_spec::runtime::User;

/// Sets supplementary groups, gid and uid (capabilities are kept by the caller's KEEPCAPS).
pub fn switch(user: &User) -> Result<()> {
    let groups: Vec<libc::gid_t> = user.additional_gids().clone().unwrap_or_default();
    // setgroups is refused in a user namespace whose setgroups file says deny; only a
    // problem when groups were asked for.
    if let Err(e) = sys::user::set_groups(&groups) {
        if !(groups.is_empty() && e.raw_os_error() == Some(libc::EPERM)) {
            return Err(Error::io(format!("setgroups {:?}", groups), e));
        }
    }
    let gid = user.gid();
    sys::user::set_gid(gid).with_context(|| format!("setgid {}", gid))?;
    let uid = user.uid();
    sys::user::set_uid(uid).with_context(|| format!("setuid {}", uid))
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
