//! The recursive mount options (`rro`, `rnosuid`, `rnoatime`, ...): mount_setattr(2) with
//! AT_RECURSIVE on the new mount once it is made, so every mount below it (the submounts an
//! `rbind` brings along) gets the attribute too; `ro` and friends change the top mount only.

use crate::error::{Error, Result};
use crate::sys::syscall::Syscall;
use std::os::fd::RawFd;

/// What the recursive options of one mount ask for, in MOUNT_ATTR_* bits.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RecursiveAttrs {
    /// Attributes to set.
    pub set: u64,
    /// Attributes to clear (all of MOUNT_ATTR__ATIME when the atime mode changes).
    pub clear: u64,
    /// The options that asked, as written, for error messages.
    pub options: Vec<String>,
}

/// How one option changes the attributes.
enum Change {
    Set(u64),
    Clear(u64),
    /// The access-time mode, an enum inside MOUNT_ATTR__ATIME rather than a bit.
    Atime(u64),
}

fn change(opt: &str) -> Option<Change> {
    use Change::*;
    Some(match opt {
        "rro" => Set(libc::MOUNT_ATTR_RDONLY),
        "rrw" => Clear(libc::MOUNT_ATTR_RDONLY),
        "rnosuid" => Set(libc::MOUNT_ATTR_NOSUID),
        "rsuid" => Clear(libc::MOUNT_ATTR_NOSUID),
        "rnodev" => Set(libc::MOUNT_ATTR_NODEV),
        "rdev" => Clear(libc::MOUNT_ATTR_NODEV),
        "rnoexec" => Set(libc::MOUNT_ATTR_NOEXEC),
        "rexec" => Clear(libc::MOUNT_ATTR_NOEXEC),
        "rnodiratime" => Set(libc::MOUNT_ATTR_NODIRATIME),
        "rdiratime" => Clear(libc::MOUNT_ATTR_NODIRATIME),
        "rnosymfollow" => Set(libc::MOUNT_ATTR_NOSYMFOLLOW),
        "rsymfollow" => Clear(libc::MOUNT_ATTR_NOSYMFOLLOW),
        "rnoatime" => Atime(libc::MOUNT_ATTR_NOATIME),
        "rrelatime" => Atime(libc::MOUNT_ATTR_RELATIME),
        "rstrictatime" => Atime(libc::MOUNT_ATTR_STRICTATIME),
        // The access time is one of three modes, so undoing one picks another: the kernel's
        // default (relatime) for `atime` and `nostrictatime`, as mount(2) does without
        // MS_NOATIME or MS_STRICTATIME. `norelatime` changes nothing: mount(2) gives relatime
        // for it too unless strictatime is asked, and runc's rnorelatime clears
        // MOUNT_ATTR_RELATIME, which is 0 (the submounts keep their mode).
        "ratime" | "rnostrictatime" => Atime(libc::MOUNT_ATTR_RELATIME),
        "rnorelatime" => Clear(0),
        _ => return None,
    })
}

/// Every recursive option (`rune features` lists them in options::KNOWN; a test checks).
#[cfg(test)]
pub(super) const OPTIONS: &[&str] = &[
    "ratime",
    "rdev",
    "rdiratime",
    "rexec",
    "rnoatime",
    "rnodev",
    "rnodiratime",
    "rnoexec",
    "rnorelatime",
    "rnostrictatime",
    "rnosuid",
    "rnosymfollow",
    "rrelatime",
    "rro",
    "rrw",
    "rstrictatime",
    "rsuid",
    "rsymfollow",
];

impl RecursiveAttrs {
    /// Takes `opt` if it is a recursive option (a later option overrides an earlier one).
    pub fn parse(&mut self, opt: &str) -> bool {
        let Some(c) = change(opt) else {
            return false;
        };
        match c {
            Change::Set(a) => {
                self.set |= a;
                self.clear &= !a;
            }
            Change::Clear(a) => {
                self.clear |= a;
                self.set &= !a;
            }
            Change::Atime(mode) => {
                // mount_setattr(2): a new atime mode goes in attr_set with all of
                // MOUNT_ATTR__ATIME in attr_clr.
                self.set = (self.set & !libc::MOUNT_ATTR__ATIME) | mode;
                self.clear |= libc::MOUNT_ATTR__ATIME;
            }
        }
        self.options.push(opt.to_string());
        true
    }

    pub fn is_empty(&self) -> bool {
        self.options.is_empty()
    }

    /// Applies the attributes to the mount whose root `fd` names and to every mount below it.
    pub fn apply(&self, os: &dyn Syscall, fd: RawFd) -> Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        let names = self.options.join(",");
        os.mount_setattr(fd, true, self.set, self.clear, &|| {
            format!("mount_setattr(AT_RECURSIVE) for {}", names)
        })
        .map_err(|e| self.explain(e))
    }

    /// A kernel without mount_setattr(2) cannot honour the options: say which and why.
    fn explain(&self, e: Error) -> Error {
        if e.errno() != Some(libc::ENOSYS) {
            return e;
        }
        crate::err!(
            InvalidSpec,
            "mount option{} {} need{} mount_setattr(2) (Linux 5.12 or later), which this \
             kernel does not have",
            if self.options.len() > 1 { "s" } else { "" },
            self.options.join(", "),
            if self.options.len() > 1 { "" } else { "s" },
        )
        .with_errno(Some(libc::ENOSYS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(opts: &[&str]) -> RecursiveAttrs {
        let mut r = RecursiveAttrs::default();
        for o in opts {
            assert!(r.parse(o), "{o}");
        }
        r
    }

    #[test]
    fn every_listed_option_is_understood() {
        for o in OPTIONS {
            assert!(change(o).is_some(), "{o}");
        }
        assert!(!RecursiveAttrs::default().parse("ro"));
    }

    #[test]
    fn set_and_clear_later_wins() {
        let r = parse(&["rro", "rnosuid", "rrw"]);
        assert_eq!(r.set, libc::MOUNT_ATTR_NOSUID);
        assert_eq!(r.clear, libc::MOUNT_ATTR_RDONLY);
        assert_eq!(r.options, ["rro", "rnosuid", "rrw"]);
    }

    #[test]
    fn atime_modes_replace_each_other() {
        let r = parse(&["rnoatime"]);
        assert_eq!(r.set, libc::MOUNT_ATTR_NOATIME);
        assert_eq!(r.clear, libc::MOUNT_ATTR__ATIME);
        let r = parse(&["rnoatime", "rstrictatime", "rnodiratime"]);
        assert_eq!(
            r.set,
            libc::MOUNT_ATTR_STRICTATIME | libc::MOUNT_ATTR_NODIRATIME
        );
        assert_eq!(r.clear, libc::MOUNT_ATTR__ATIME);
        assert_eq!(
            parse(&["rnoatime", "ratime"]).set,
            libc::MOUNT_ATTR_RELATIME
        );
    }

    #[test]
    fn a_kernel_without_mount_setattr_is_a_clear_error() {
        let r = parse(&["rro", "rnoexec"]);
        let e = r.explain(Error::os("mount_setattr", libc::ENOSYS));
        assert_eq!(e.errno(), Some(libc::ENOSYS));
        assert!(
            e.message().contains("rro, rnoexec need mount_setattr(2)"),
            "{}",
            e.message()
        );
        let other = r.explain(Error::os("mount_setattr", libc::EINVAL));
        assert_eq!(other.errno(), Some(libc::EINVAL));
    }
}
