//! The enclave keeper (the rune binary, alive as pid 1 of an enclave container
//! for its whole life, with the PAL loaded) is out of the container's reach:
//! its memory, environment and binary (CVE-2019-5736 for a long-lived init).

use rune_integration::*;

/// statvfs flags of `/proc/<pid>/exe`, as seen from the host.
fn exe_mount_flags(pid: i32) -> u64 {
    let path = std::ffi::CString::new(format!("/proc/{pid}/exe")).unwrap();
    // SAFETY: zeroed statvfs is a valid out buffer; path is NUL-terminated.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::statvfs(path.as_ptr(), &mut st) };
    assert_eq!(
        r,
        0,
        "statvfs /proc/{pid}/exe: {}",
        std::io::Error::last_os_error()
    );
    st.f_flag
}

/// Probes run as root (default capabilities) inside the container against
/// its pid 1; prints only `done` when every one is refused.
const PROBE: &str = "for f in exe mem maps environ; do \
                       if cat /proc/1/$f >/dev/null 2>&1; then echo read-$f; fi; done; \
                     (echo x >> /proc/1/exe) 2>/dev/null && echo wrote-exe; \
                     readlink /proc/1/exe >/dev/null 2>&1 && echo link-exe; \
                     echo done";

#[test]
fn container_cannot_reach_the_enclave_keeper() {
    for version in [2, 3] {
        let rune = Rune::new();
        let before = file_fingerprint(rune.bin());
        let (mut b, trace) = skeleton_bundle("encsec", version);
        b.args(&["sleep", "1000"]);
        let (_, pid) = rune.start_container(&b);
        assert!(rune.wait_status(&b.id, "running"));
        // pid 1 of the container is still the rune binary, now hosting the enclave.
        assert!(pid_alive(pid));
        assert_eq!(
            file_fingerprint(std::path::Path::new(&format!("/proc/{pid}/exe"))),
            before,
            "v{version}: the container's init is not the rune binary"
        );
        let out = rune.exec(&b.id, &["sh", "-c", PROBE]);
        out.assert_ok();
        assert_eq!(
            out.stdout.trim(),
            "done",
            "v{version}: the container reached the enclave keeper: {}",
            out.stdout
        );
        // The probe ran in the enclave, as a child of the enclave keeper.
        process_pair(&trace.lines(), "/proc/1/$f");
        assert_eq!(
            file_fingerprint(rune.bin()),
            before,
            "the rune binary changed"
        );
        rune.delete_force(&b.id).assert_ok();
        assert_no_leaks(&rune, &b, Some(pid));
        assert_eq!(
            file_fingerprint(rune.bin()),
            before,
            "the rune binary changed"
        );
    }
}

#[test]
fn enclave_keeper_binary_is_on_a_read_only_mount() {
    for version in [1, 2, 3] {
        let rune = Rune::new();
        let (mut b, _trace) = skeleton_bundle("encsecro", version);
        b.args(&["sleep", "1000"]);
        let (_, pid) = rune.create_ok(&b);
        assert_ne!(
            exe_mount_flags(pid) & libc::ST_RDONLY,
            0,
            "v{version}: enclave keeper (created) runs from a writable mount"
        );
        rune.start(&b.id).assert_ok();
        assert!(rune.wait_status(&b.id, "running"));
        assert!(pid_alive(pid));
        // Still the rune binary (not the payload, whose rootfs is read-only anyway).
        assert_eq!(
            file_fingerprint(std::path::Path::new(&format!("/proc/{pid}/exe"))),
            file_fingerprint(rune.bin()),
            "v{version}: the container's init is not the rune binary"
        );
        assert_ne!(
            exe_mount_flags(pid) & libc::ST_RDONLY,
            0,
            "v{version}: enclave keeper (running) runs from a writable mount"
        );
        rune.delete_force(&b.id).assert_ok();
        assert_no_leaks(&rune, &b, Some(pid));
    }
}

#[test]
fn payload_cannot_reach_the_enclave_keeper() {
    // The entrypoint itself, run by the PAL as a child of the enclave keeper.
    for version in [1, 3] {
        let rune = Rune::new();
        let (mut b, _trace) = skeleton_bundle("encsecpay", version);
        b.sh(PROBE);
        let out = rune.run(&b);
        out.assert_ok();
        assert_eq!(out.stdout.trim(), "done", "v{version}: {}", out.stdout);
        assert_no_leaks(&rune, &b, None);
    }
}
