//! /proc/<pid>/mountinfo, parsed in one place: its fields, and the octal escapes (`\040` for a
//! space) of the paths in it.

use std::path::PathBuf;

/// One mount, as a mountinfo line describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The directory of the file system mounted here (`/` for a whole one, a subdirectory for
    /// a bind of part of it).
    pub root: PathBuf,
    pub mount_point: PathBuf,
    /// The optional fields: `shared:N`, `master:N`, ...
    pub optional: Vec<String>,
    pub fstype: String,
    /// The superblock's options (`rw,cpu,cpuacct` for a v1 cgroup hierarchy).
    pub super_options: String,
}

impl Entry {
    pub fn is_shared(&self) -> bool {
        self.optional.iter().any(|f| f.starts_with("shared:"))
    }
}

/// The entries of a mountinfo text, in its order (a later mount may cover an earlier one);
/// malformed lines are skipped.
pub fn parse(text: &str) -> Vec<Entry> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Entry> {
    let (pre, post) = line.split_once(" - ")?;
    let fields: Vec<&str> = pre.split(' ').collect();
    let mut post = post.split(' ');
    let fstype = post.next()?.to_string();
    let super_options = post.nth(1).unwrap_or("").to_string();
    Some(Entry {
        root: PathBuf::from(unescape(fields.get(3)?)),
        mount_point: PathBuf::from(unescape(fields.get(4)?)),
        optional: fields.iter().skip(6).map(|f| f.to_string()).collect(),
        fstype,
        super_options,
    })
}

/// This process's mounts.
pub fn read_own() -> std::io::Result<Vec<Entry>> {
    std::fs::read_to_string("/proc/self/mountinfo").map(|t| parse(&t))
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(field: &str) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) if b[i] == b'\\' => {
                out.push(d.iter().fold(0u8, |n, c| n.wrapping_mul(8) + (c - b'0')));
                i += 4;
            }
            _ => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_escapes_and_optional_fields() {
        let text = "36 35 98:0 /mnt1 /mnt\\0402 rw,noatime master:1 shared:7 - ext3 /dev/root rw,errors=continue\n\
                    bad line\n\
                    40 1 0:30 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n";
        let e = parse(text);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].root, PathBuf::from("/mnt1"));
        assert_eq!(e[0].mount_point, PathBuf::from("/mnt 2"));
        assert_eq!(e[0].optional, ["master:1", "shared:7"]);
        assert!(e[0].is_shared());
        assert_eq!(e[0].fstype, "ext3");
        assert_eq!(e[0].super_options, "rw,errors=continue");
        assert_eq!(e[1].fstype, "cgroup");
        assert_eq!(e[1].super_options, "rw,cpu,cpuacct");
        assert!(!e[1].is_shared());
    }

    #[test]
    fn unescape_leaves_other_backslashes() {
        assert_eq!(unescape("a\\134b\\011c\\9x\\"), "a\\b\tc\\9x\\");
    }
}
