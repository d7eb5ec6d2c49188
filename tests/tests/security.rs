//! A container must not reach the host: the rune binary through /proc/<pid>/exe
//! (CVE-2019-5736), rune's own memory, or a host directory through a leaked fd
//! (CVE-2024-21626).

use rune_integration::*;
use std::io::Read;

fn file_digest(path: &std::path::Path) -> (u64, u64) {
    let mut data = Vec::new();
    std::fs::File::open(path)
        .unwrap()
        .read_to_end(&mut data)
        .unwrap();
    // A cheap content fingerprint (FNV-1a) plus the length.
    let h = data.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x100000001b3)
    });
    (data.len() as u64, h)
}

#[test]
fn init_binary_is_mapped_from_a_read_only_mount() {
    // While a container is created but not started, its pid 1 is rune's own init.
    let rune = Rune::new();
    let mut b = Bundle::new("secexe");
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.create_ok(&b);
    // The magic link leads to the binary on a read-only mount, so it stays unwritable even
    // after the process exits (ETXTBSY alone does not: the attack reopens it then).
    let path = std::ffi::CString::new(format!("/proc/{pid}/exe")).unwrap();
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statvfs(path.as_ptr(), &mut st) }, 0);
    assert_ne!(
        st.f_flag & libc::ST_RDONLY,
        0,
        "rune init runs from a writable mount"
    );
    // The host's own view of the binary is untouched (still writable for upgrades).
    let host = std::ffi::CString::new(rune.bin().to_str().unwrap()).unwrap();
    let mut hst: libc::statvfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statvfs(host.as_ptr(), &mut hst) }, 0);
    assert_eq!(hst.f_flag & libc::ST_RDONLY, 0);
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn container_cannot_write_or_read_the_rune_init() {
    let rune = Rune::new();
    let before = file_digest(rune.bin());
    let mut b = Bundle::new("secinit");
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.create_ok(&b);
    // As root in the container (default capabilities), against the waiting rune init.
    let script = "for f in exe mem maps environ; do \
                    if cat /proc/1/$f >/dev/null 2>&1; then echo read-$f; fi; done; \
                  (echo x >> /proc/1/exe) 2>/dev/null && echo wrote-exe; \
                  readlink /proc/1/exe >/dev/null 2>&1 && echo link-exe; \
                  echo done";
    let out = rune.exec(&b.id, &["sh", "-c", script]);
    out.assert_ok();
    assert_eq!(
        out.stdout.trim(),
        "done",
        "the container reached rune init: {}",
        out.stdout
    );
    assert_eq!(file_digest(rune.bin()), before, "the rune binary changed");
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn no_host_fd_reaches_the_container_process() {
    // CVE-2024-21626: a cwd of /proc/self/fd/N must not land in a host directory. Every
    // descriptor above stdio is closed or close-on-exec before the user's cwd is entered.
    for n in 3..=9 {
        let rune = Rune::new();
        let mut b = Bundle::new("secfd");
        b.cwd(&format!("/proc/self/fd/{n}"))
            .sh("cd ../../..; ls /proc/self/cwd/ 2>/dev/null; pwd -P");
        let out = rune.run(&b);
        if out.success() {
            // It may only have landed inside the container: never next to host files.
            assert!(!out.stdout.contains("rune-root-"), "fd {n}: {}", out.stdout);
            assert!(!out.stdout.contains("cgroup"), "fd {n}: {}", out.stdout);
        } else {
            out.assert_fail_mentioning(&["chdir"]);
        }
        assert_no_leaks(&rune, &b, None);
    }
    // And a payload sees nothing but stdio.
    let rune = Rune::new();
    let mut b = Bundle::new("secfds");
    b.sh("ls /proc/self/fd | sort -n | tr '\\n' ' '");
    let out = rune.run(&b);
    out.assert_ok();
    // 0-2 and the fd ls itself opens for the directory.
    assert_eq!(out.stdout.split_whitespace().count(), 4, "{}", out.stdout);
    assert_no_leaks(&rune, &b, None);
}
