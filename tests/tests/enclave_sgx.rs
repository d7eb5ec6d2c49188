//! Intel SGX without SGX hardware: `rune attest` through the skeleton's
//! simulated report, and the SGX device nodes and AESM socket passed into the
//! container on a fake SGX host (a private mount namespace with fake nodes).

use rune_integration::*;
use std::ffi::OsStr;
use std::path::Path;

const REPORT_SIZE: usize = 432;
const MAGIC: &[u8] = b"SKELETON-SIMULATED-REPORT v1";
const FNV_BASIS: u64 = 0xcbf2_9ce4_8422_2325;

/// Check a simulated report against the skeleton's documented layout.
#[track_caller]
fn check_report(report: &[u8], target_info: &[u8]) {
    assert_eq!(report.len(), REPORT_SIZE, "report size");
    assert!(report.starts_with(MAGIC), "report magic: {report:?}");
    assert!(report[MAGIC.len()..32].iter().all(|b| *b == 0));
    let le32 = |o: usize| u32::from_le_bytes(report[o..o + 4].try_into().unwrap());
    assert_eq!(le32(32) as usize, target_info.len(), "target_info_len");
    assert_eq!(le32(36), 3, "PAL API version in the report");
    for lane in 0..4u8 {
        let want = fnv1a(fnv1a(FNV_BASIS, &[lane]), target_info);
        let o = 40 + 8 * lane as usize;
        let got = u64::from_le_bytes(report[o..o + 8].try_into().unwrap());
        assert_eq!(got, want, "digest lane {lane}");
    }
    let n = target_info.len().min(REPORT_SIZE - 72);
    assert_eq!(&report[72..72 + n], &target_info[..n], "target info copy");
    assert!(report[72 + n..].iter().all(|b| *b == 0));
}

/// A started enclave container (`sleep 1000`) on the skeleton v`version`.
fn running(prefix: &str, version: u32) -> (Rune, Bundle, TraceDir, i32) {
    let rune = Rune::new();
    let (mut b, trace) = skeleton_bundle(prefix, version);
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.start_container(&b);
    assert!(rune.wait_status(&b.id, "running"));
    (rune, b, trace, pid)
}

fn finish(rune: &Rune, b: &Bundle, pid: i32) {
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(rune, b, Some(pid));
}

#[test]
fn attest_writes_the_report_to_stdout() {
    let (rune, b, trace, pid) = running("encatt", 3);
    let out = rune.cmd(["attest", b.id.as_str()]).run();
    out.assert_ok();
    check_report(&stdout_bytes(&out), &[]);
    let line = trace
        .wait_line(|l| l.starts_with("pal_get_local_report "))
        .unwrap_or_else(|| panic!("no pal_get_local_report:\n{}", trace.dump()));
    assert!(
        line.starts_with("pal_get_local_report target_info_len=0 "),
        "{line}"
    );
    assert!(line.ends_with(" -> report_len=432"), "{line}");
    // The container is unaffected.
    assert_eq!(rune.status(&b.id), "running");
    finish(&rune, &b, pid);
}

#[test]
fn attest_with_target_info_and_output_file() {
    let (rune, b, trace, pid) = running("encattti", 3);
    let ti: Vec<u8> = (0..512u32).map(|i| (i * 7 + 3) as u8).collect();
    let ti_file = rune.scratch().join("target_info.bin");
    std::fs::write(&ti_file, &ti).unwrap();
    let report_file = rune.scratch().join("report.bin");
    let out = rune
        .cmd([
            "attest",
            "--target-info",
            ti_file.to_str().unwrap(),
            "--output",
            report_file.to_str().unwrap(),
            b.id.as_str(),
        ])
        .umask(0)
        .run();
    out.assert_ok();
    check_report(&std::fs::read(&report_file).unwrap(), &ti);
    // The evidence is the caller's alone, whatever the umask.
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(&report_file).unwrap().mode() & 0o777,
        0o600
    );
    assert!(
        !stdout_bytes(&out).starts_with(MAGIC),
        "report also on stdout"
    );
    // --target-info alone: the report goes to stdout.
    let out = rune
        .cmd([
            "attest",
            "--target-info",
            ti_file.to_str().unwrap(),
            b.id.as_str(),
        ])
        .run();
    out.assert_ok();
    check_report(&stdout_bytes(&out), &ti);
    let n = trace
        .lines()
        .iter()
        .filter(|l| l.starts_with("pal_get_local_report target_info_len=512 "))
        .count();
    assert_eq!(n, 2, "{}", trace.dump());
    finish(&rune, &b, pid);
}

#[test]
fn attest_needs_a_v3_runtime() {
    for version in [1, 2] {
        let (rune, b, trace, pid) = running("encattold", version);
        let out = rune.cmd(["attest", b.id.as_str()]).run();
        assert_fail_with(&out, &["pal_get_local_report", "v3"], &[]);
        assert!(stdout_bytes(&out).is_empty(), "v{version}: {out}");
        assert!(!trace.dump().contains("pal_get_local_report"), "v{version}");
        assert_eq!(rune.status(&b.id), "running");
        finish(&rune, &b, pid);
    }
}

/// The SGX nodes the container must see, checked by the payload.
const SGX_CHECK: &str = "for d in /dev/sgx_enclave /dev/sgx_provision; do \
       stat -c '%n %F %t:%T' $d; (exec 3< $d) && echo open-ok $d; \
     done; test -e /var/run/aesmd/aesm.socket && echo aesm-ok; echo checked";

/// `run` an intelSgx container with the skeleton v3 on the fake host `sgx`.
fn run_sgx(rune: &Rune, sgx: &FakeSgx, prefix: &str, script: &str) -> (Bundle, TraceDir, Output) {
    // Where rune mounts the AESM socket folder: the shared rootfs is
    // read-only, so the mount point is made beforehand (as for /trace).
    ensure_mount_point("/var/run/aesmd");
    let (mut b, trace) = skeleton_bundle(prefix, 3);
    b.enclave_type("intelSgx").sh(script);
    b.write();
    rune.track(&b.id);
    let out = run_on_fake_sgx_host(
        rune,
        sgx,
        &[
            OsStr::new("run"),
            OsStr::new("--bundle"),
            b.path().as_os_str(),
            OsStr::new(&b.id),
        ],
    );
    (b, trace, out)
}

/// The host's own /dev and /run are untouched by the fake host.
#[track_caller]
fn host_untouched(aesm_before: bool) {
    for n in ["/dev/sgx_enclave", "/dev/sgx_provision", "/dev/isgx"] {
        assert!(!Path::new(n).exists(), "{n} leaked onto the host");
    }
    assert_eq!(Path::new("/run/aesmd").exists(), aesm_before);
}

fn host_has_sgx() -> bool {
    ["/dev/sgx_enclave", "/dev/sgx_provision", "/dev/isgx"]
        .iter()
        .any(|n| Path::new(n).exists())
}

#[test]
fn sgx_devices_and_aesm_socket_are_passed_through() {
    if host_has_sgx() {
        eprintln!("this host has SGX nodes: the fake-host checks would not be isolated");
        return;
    }
    let aesm_before = Path::new("/run/aesmd").exists();
    let rune = Rune::new();
    let (b, trace, out) = run_sgx(&rune, &FakeSgx::like_null(), "encsgx", SGX_CHECK);
    out.assert_ok();
    assert_eq!(
        out.stdout,
        "/dev/sgx_enclave character special file 1:3\n\
         open-ok /dev/sgx_enclave\n\
         /dev/sgx_provision character special file 1:3\n\
         open-ok /dev/sgx_provision\n\
         aesm-ok\n\
         checked\n",
        "{out}"
    );
    // It ran in the enclave runtime.
    assert_eq!(
        trace.calls(),
        ["pal_init", "pal_create_process", "pal_exec", "pal_destroy"],
        "{}",
        trace.dump()
    );
    assert_no_leaks(&rune, &b, None);
    host_untouched(aesm_before);
}

#[test]
fn sgx_device_cgroup_allows_nodes_outside_the_default_list() {
    // /dev/fuse (10:229) is not among the default spec's allowed devices
    // (devices.rs checks it is denied): as the fake /dev/sgx_enclave it can
    // only be opened if rune adds a device cgroup rule for the SGX nodes.
    if host_has_sgx() || !Path::new("/dev/fuse").exists() {
        eprintln!("no /dev/fuse, or a real SGX host: nothing to check");
        return;
    }
    let aesm_before = Path::new("/run/aesmd").exists();
    let rune = Rune::new();
    let sgx = FakeSgx {
        nodes: vec![
            ("sgx_enclave".into(), 10, 229),
            ("sgx_provision".into(), 1, 3),
        ],
        aesm: true,
    };
    let (b, _trace, out) = run_sgx(&rune, &sgx, "encsgxcg", SGX_CHECK);
    out.assert_ok();
    assert!(
        out.stdout
            .contains("/dev/sgx_enclave character special file a:e5\nopen-ok /dev/sgx_enclave\n"),
        "{out}"
    );
    assert!(out.stdout.contains("open-ok /dev/sgx_provision\n"), "{out}");
    assert_no_leaks(&rune, &b, None);
    host_untouched(aesm_before);
}

#[test]
fn legacy_isgx_node_is_passed_through() {
    if host_has_sgx() {
        eprintln!("this host has SGX nodes: the fake-host checks would not be isolated");
        return;
    }
    let aesm_before = Path::new("/run/aesmd").exists();
    let rune = Rune::new();
    let sgx = FakeSgx {
        nodes: vec![("isgx".into(), 1, 3)],
        aesm: true,
    };
    let script = "stat -c '%n %F %t:%T' /dev/isgx; (exec 3< /dev/isgx) && echo open-ok";
    let (b, _trace, out) = run_sgx(&rune, &sgx, "encisgx", script);
    out.assert_ok();
    assert_eq!(
        out.stdout, "/dev/isgx character special file 1:3\nopen-ok\n",
        "{out}"
    );
    assert_no_leaks(&rune, &b, None);
    host_untouched(aesm_before);
}

#[test]
fn intel_sgx_on_a_host_without_sgx_nodes_fails() {
    if host_has_sgx() {
        eprintln!("this host has SGX nodes: the fake-host checks would not be isolated");
        return;
    }
    let rune = Rune::new();
    let (b, trace, out) = run_sgx(&rune, &FakeSgx::none(), "encsgxnone", "echo payload-ran");
    assert_fail_with(&out, &["/dev/sgx_enclave", "/dev/isgx"], &[]);
    assert!(!out.stdout.contains("payload-ran"), "{out}");
    assert!(trace.lines().is_empty(), "the PAL ran:\n{}", trace.dump());
    assert_no_leaks(&rune, &b, None);
}
