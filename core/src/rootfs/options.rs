//! mount(8)-style options of config.json mounts, turned into mount(2) flags and data.

use super::recursive::RecursiveAttrs;
use libc::c_ulong;

/// What a mount's options ask for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MountOptions {
    /// Flags to set.
    pub flags: c_ulong,
    /// Flags the options clear (for remounts of binds).
    pub clear: c_ulong,
    /// Propagation changes, applied one by one after the mount.
    pub propagation: Vec<c_ulong>,
    /// `tmpcopyup`: fill a new tmpfs with what the directory underneath held.
    pub tmpcopyup: bool,
    /// The recursive options (`rro`, `rnosuid`, ...), applied with mount_setattr(2).
    pub recursive: RecursiveAttrs,
    /// Everything else, passed as the data string (e.g. `mode=755,size=65536k`).
    pub data: Vec<String>,
}

impl MountOptions {
    pub fn is_bind(&self) -> bool {
        self.flags & libc::MS_BIND != 0
    }

    /// Whether a mount of type `typ` with these options is a bind: a `bind`/`rbind` option, or
    /// the type "bind".
    pub fn binds(&self, typ: Option<&str>) -> bool {
        self.is_bind() || typ == Some("bind")
    }

    pub fn data_string(&self) -> String {
        self.data.join(",")
    }
}

/// Whether mount `m` is a bind mount ([`MountOptions::binds`]).
pub fn is_bind_mount(m: &oci_spec::runtime::Mount) -> bool {
    parse(m.options().as_deref().unwrap_or(&[])).binds(m.typ().as_deref())
}

/// Parses the options of one mount.
pub fn parse(options: &[String]) -> MountOptions {
    let mut o = MountOptions::default();
    for opt in options {
        if let Some(p) = super::propagation_flag(opt) {
            o.propagation.push(p);
            continue;
        }
        if o.recursive.parse(opt) {
            continue;
        }
        if opt == "tmpcopyup" {
            o.tmpcopyup = true;
            continue;
        }
        match flag(opt) {
            Some((true, f)) => o.flags |= f,
            Some((false, f)) => {
                o.flags &= !f;
                o.clear |= f;
            }
            // Known to runc and crun, with no mount(2) meaning here.
            // (idmap and ridmap are done by rootfs::idmap, on the source rune create opens.)
            None if matches!(opt.as_str(), "defaults" | "idmap" | "ridmap") => {}
            None => o.data.push(opt.clone()),
        }
    }
    o
}

/// (set?, flag) for a flag option.
fn flag(opt: &str) -> Option<(bool, c_ulong)> {
    Some(match opt {
        "async" => (false, libc::MS_SYNCHRONOUS),
        "atime" => (false, libc::MS_NOATIME),
        "bind" => (true, libc::MS_BIND),
        "dev" => (false, libc::MS_NODEV),
        "diratime" => (false, libc::MS_NODIRATIME),
        "dirsync" => (true, libc::MS_DIRSYNC),
        "exec" => (false, libc::MS_NOEXEC),
        "iversion" => (true, libc::MS_I_VERSION),
        "lazytime" => (true, libc::MS_LAZYTIME),
        "loud" => (false, libc::MS_SILENT),
        "mand" => (true, libc::MS_MANDLOCK),
        "noatime" => (true, libc::MS_NOATIME),
        "nodev" => (true, libc::MS_NODEV),
        "nodiratime" => (true, libc::MS_NODIRATIME),
        "noexec" => (true, libc::MS_NOEXEC),
        "noiversion" => (false, libc::MS_I_VERSION),
        "nolazytime" => (false, libc::MS_LAZYTIME),
        "nomand" => (false, libc::MS_MANDLOCK),
        "norelatime" => (false, libc::MS_RELATIME),
        "nostrictatime" => (false, libc::MS_STRICTATIME),
        "nosuid" => (true, libc::MS_NOSUID),
        "nosymfollow" => (true, libc::MS_NOSYMFOLLOW),
        "rbind" => (true, libc::MS_BIND | libc::MS_REC),
        "relatime" => (true, libc::MS_RELATIME),
        "remount" => (true, libc::MS_REMOUNT),
        "ro" => (true, libc::MS_RDONLY),
        "rw" => (false, libc::MS_RDONLY),
        "silent" => (true, libc::MS_SILENT),
        "strictatime" => (true, libc::MS_STRICTATIME),
        "suid" => (false, libc::MS_NOSUID),
        "symfollow" => (false, libc::MS_NOSYMFOLLOW),
        "sync" => (true, libc::MS_SYNCHRONOUS),
        _ => return None,
    })
}

/// The mount options rune understands, for `rune features`.
pub const KNOWN: &[&str] = &[
    "async",
    "atime",
    "bind",
    "defaults",
    "dev",
    "diratime",
    "dirsync",
    "exec",
    "idmap",
    "iversion",
    "lazytime",
    "loud",
    "mand",
    "noatime",
    "nodev",
    "nodiratime",
    "noexec",
    "noiversion",
    "nolazytime",
    "nomand",
    "norelatime",
    "nostrictatime",
    "nosuid",
    "nosymfollow",
    "private",
    "ratime",
    "rbind",
    "rdev",
    "rdiratime",
    "relatime",
    "remount",
    "rexec",
    "ridmap",
    "rnoatime",
    "rnodev",
    "rnodiratime",
    "rnoexec",
    "rnorelatime",
    "rnostrictatime",
    "rnosuid",
    "rnosymfollow",
    "ro",
    "rprivate",
    "rrelatime",
    "rro",
    "rrw",
    "rshared",
    "rslave",
    "rstrictatime",
    "rsuid",
    "rsymfollow",
    "runbindable",
    "rw",
    "shared",
    "silent",
    "slave",
    "strictatime",
    "suid",
    "symfollow",
    "sync",
    "tmpcopyup",
    "unbindable",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn splits_flags_propagation_and_data() {
        let o = parse(&opts(&[
            "nosuid",
            "strictatime",
            "mode=755",
            "size=65536k",
            "rslave",
        ]));
        assert_eq!(o.flags, libc::MS_NOSUID | libc::MS_STRICTATIME);
        assert_eq!(o.propagation, vec![libc::MS_SLAVE | libc::MS_REC]);
        assert_eq!(o.data_string(), "mode=755,size=65536k");
    }

    #[test]
    fn recursive_options_are_not_data() {
        let o = parse(&opts(&["rbind", "rro", "rnosuid", "size=1m"]));
        assert_eq!(o.recursive.options, ["rro", "rnosuid"]);
        assert_eq!(o.data_string(), "size=1m");
        assert_eq!(o.flags, libc::MS_BIND | libc::MS_REC);
    }

    #[test]
    fn symfollow_clears_nosymfollow() {
        let o = parse(&opts(&["nosymfollow", "symfollow"]));
        assert_eq!(o.flags, 0);
        assert_eq!(o.clear, libc::MS_NOSYMFOLLOW);
        assert!(o.data.is_empty());
    }

    #[test]
    fn features_list_every_option() {
        for o in super::super::recursive::OPTIONS
            .iter()
            .chain(&["symfollow"])
        {
            assert!(KNOWN.contains(o), "{o}");
        }
    }

    #[test]
    fn later_options_win() {
        let o = parse(&opts(&["rbind", "ro", "rw"]));
        assert!(o.is_bind());
        assert_eq!(o.flags & libc::MS_RDONLY, 0);
        assert_eq!(o.clear, libc::MS_RDONLY);
    }
}
