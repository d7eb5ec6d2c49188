//! Reading `/proc/self/mountinfo` as a container printed it, and mounts made on the host for
//! the length of a test.

use std::ffi::CString;
use std::path::Path;

/// The mountinfo line whose mount point is `target` (last one wins).
#[track_caller]
pub fn mountinfo_line<'a>(mountinfo: &'a str, target: &str) -> &'a str {
    mountinfo
        .lines()
        .rfind(|l| l.split_whitespace().nth(4) == Some(target))
        .unwrap_or_else(|| panic!("{target} not mounted:\n{mountinfo}"))
}

/// Per-mount options (field 6) of a mountinfo line.
pub fn mount_opts(line: &str) -> Vec<&str> {
    line.split_whitespace().nth(5).unwrap().split(',').collect()
}

/// Super-block options (after the ` - fstype source` part).
pub fn super_opts(line: &str) -> Vec<&str> {
    let post = line.split(" - ").nth(1).unwrap();
    post.split_whitespace()
        .nth(2)
        .unwrap_or("")
        .split(',')
        .collect()
}

/// The propagation tags of a mountinfo line (`shared:N`, `master:N`, `unbindable`): the
/// optional fields between the options (field 6) and " - ".
pub fn propagation_tags(line: &str) -> Vec<&str> {
    line.split(" - ")
        .next()
        .unwrap()
        .split_whitespace()
        .skip(6)
        .collect()
}

/// A mount made on the host for the duration of a test, detached when dropped.
pub struct HostMount(CString);

impl HostMount {
    /// A fresh tmpfs on `target`.
    pub fn tmpfs(target: &Path) -> HostMount {
        let t = CString::new(target.to_str().unwrap()).unwrap();
        let fs = c"tmpfs";
        // SAFETY: valid C strings; the mount is undone in Drop.
        let r = unsafe { libc::mount(fs.as_ptr(), t.as_ptr(), fs.as_ptr(), 0, std::ptr::null()) };
        assert_eq!(
            r,
            0,
            "mount tmpfs on {target:?}: {}",
            std::io::Error::last_os_error()
        );
        HostMount(t)
    }
}

impl Drop for HostMount {
    fn drop(&mut self) {
        // SAFETY: detaching the mount we made.
        unsafe { libc::umount2(self.0.as_ptr(), libc::MNT_DETACH) };
    }
}
