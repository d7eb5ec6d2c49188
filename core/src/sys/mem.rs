//! This process's memory: giving back the pages of its programs it no longer needs.

/// One mapping of /proc/self/smaps that may be dropped: read-only, private, of a file, and
/// never written (no anonymous copy of any of its pages).
#[derive(Debug, PartialEq, Eq)]
struct Clean {
    start: usize,
    len: usize,
}

/// The clean file mappings listed in `smaps` (the text of /proc/self/smaps).
fn clean_mappings(smaps: &str) -> Vec<Clean> {
    let mut out = Vec::new();
    let mut cur: Option<Clean> = None;
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or("");
        if let Some((a, b)) = first.split_once('-') {
            if let (Ok(start), Ok(end)) =
                (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
            {
                let perms = words.next().unwrap_or("");
                let path = words.nth(3).unwrap_or("");
                let eligible = perms.len() == 4
                    && !perms.contains('w')
                    && perms.ends_with('p')
                    && path.starts_with('/');
                cur = eligible.then_some(Clean {
                    start,
                    len: end - start,
                });
                continue;
            }
        }
        if first == "Anonymous:" {
            let anon = words
                .next()
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(1);
            if let Some(c) = cur.take() {
                if anon == 0 {
                    out.push(c);
                }
            }
        }
    }
    out
}

/// Drops this process's page-table entries of its clean file mappings (program and library
/// text and read-only data that were never written): its RSS then holds only what it touches
/// from here on, which faults back in from the page cache. For a long-lived process that did
/// its set-up with code it will not run again (the enclave keeper). Best effort: a mapping the
/// kernel refuses is left as it is. Never a written page: a mapping with any private copy is
/// skipped, so nothing this process changed is lost.
pub fn drop_clean_file_pages() {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    for c in clean_mappings(&smaps) {
        // SAFETY: MADV_DONTNEED on a read-only private file mapping that has no private copy
        // of any page only removes page-table entries: each page is read again from the file
        // on the next access, with the same contents.
        unsafe { libc::madvise(c.start as *mut libc::c_void, c.len, libc::MADV_DONTNEED) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
55d0a0000000-55d0a0100000 r--p 00000000 08:01 123 /usr/bin/rune
Size:               1024 kB
Rss:                 512 kB
Anonymous:             0 kB
55d0a0100000-55d0a0400000 r-xp 00100000 08:01 123 /usr/bin/rune
Rss:                2048 kB
Anonymous:             0 kB
55d0a0400000-55d0a0410000 r--p 00400000 08:01 123 /usr/bin/rune
Rss:                  64 kB
Anonymous:            12 kB
55d0a0410000-55d0a0411000 rw-p 00410000 08:01 123 /usr/bin/rune
Anonymous:             4 kB
7f0000000000-7f0000001000 r-xs 00000000 00:05 9 /dev/sgx_enclave
Anonymous:             0 kB
7f0000100000-7f0000200000 rw-p 00000000 00:00 0 [heap]
Anonymous:           100 kB
7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0 [vdso]
Anonymous:             0 kB
";

    /// Text and untouched read-only data are dropped; relocated data (private copies), writable
    /// mappings, shared ones (an enclave's) and anonymous ones are not.
    #[test]
    fn only_never_written_private_file_mappings() {
        assert_eq!(
            clean_mappings(SMAPS),
            vec![
                Clean {
                    start: 0x55d0a0000000,
                    len: 0x100000
                },
                Clean {
                    start: 0x55d0a0100000,
                    len: 0x300000
                },
            ]
        );
    }

    /// The process goes on running the code whose pages it dropped.
    #[test]
    fn dropped_pages_come_back() {
        drop_clean_file_pages();
        let s = std::fs::read_to_string("/proc/self/status").unwrap();
        assert!(s.contains("VmRSS:"));
        drop_clean_file_pages();
    }
}
