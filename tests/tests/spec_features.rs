//! `spec` and `features`.

use rune_integration::*;

fn ns_types(spec: &Value) -> Vec<String> {
    let mut v: Vec<String> = spec["linux"]["namespaces"]
        .as_array()
        .expect("linux.namespaces")
        .iter()
        .map(|n| n["type"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn read_json(p: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{p:?} is not JSON ({e}): {text}"))
}

#[test]
fn spec_writes_default_config() {
    let rune = Rune::new();
    let dir = tempfile::tempdir().unwrap();
    rune.cmd(["spec"]).current_dir(dir.path()).run().assert_ok();
    let spec = read_json(&dir.path().join("config.json"));
    assert!(spec["ociVersion"].as_str().unwrap().starts_with("1."));
    assert_eq!(spec["process"]["args"], json!(["sh"]));
    assert_eq!(spec["process"]["terminal"], true);
    assert_eq!(spec["process"]["cwd"], "/");
    assert_eq!(spec["process"]["user"], json!({"uid": 0, "gid": 0}));
    assert_eq!(spec["root"], json!({"path": "rootfs", "readonly": true}));
    assert_eq!(spec["process"]["noNewPrivileges"], true);
    let caps = json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    for set in ["bounding", "effective", "permitted"] {
        assert_eq!(spec["process"]["capabilities"][set], caps, "{set}");
    }
    assert_eq!(ns_types(&spec), ["ipc", "mount", "network", "pid", "uts"]);
    let dests: Vec<&str> = spec["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["destination"].as_str().unwrap())
        .collect();
    for d in [
        "/proc",
        "/dev",
        "/dev/pts",
        "/dev/shm",
        "/dev/mqueue",
        "/sys",
    ] {
        assert!(dests.contains(&d), "{d} missing from {dests:?}");
    }
    assert!(spec["linux"]["maskedPaths"]
        .as_array()
        .unwrap()
        .contains(&json!("/proc/kcore")));
    assert!(spec["linux"]["readonlyPaths"]
        .as_array()
        .unwrap()
        .contains(&json!("/proc/sys")));
    assert_eq!(
        spec["linux"]["resources"]["devices"],
        json!([{"allow": false, "access": "rwm"}])
    );
}

#[test]
fn spec_refuses_to_overwrite_existing_config() {
    let rune = Rune::new();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.json");
    std::fs::write(&cfg, "{\"keep\": \"me\"}").unwrap();
    rune.cmd(["spec"])
        .current_dir(dir.path())
        .run()
        .assert_fail_mentioning(&["config.json"]);
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), "{\"keep\": \"me\"}");
}

#[test]
fn spec_bundle_flag() {
    let rune = Rune::new();
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    rune.cmd(["spec", "--bundle", dir.path().to_str().unwrap()])
        .current_dir(elsewhere.path())
        .run()
        .assert_ok();
    assert!(dir.path().join("config.json").is_file());
    assert!(!elsewhere.path().join("config.json").exists());
    let other = tempfile::tempdir().unwrap();
    rune.cmd(["spec", "-b", other.path().to_str().unwrap()])
        .run()
        .assert_ok();
    read_json(&other.path().join("config.json"));
}

#[test]
fn spec_bundle_missing_dir_fails() {
    let rune = Rune::new();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    rune.cmd(["spec", "--bundle", missing.to_str().unwrap()])
        .run()
        .assert_fail_mentioning(&["nope"]);
}

#[test]
fn spec_rootless() {
    let rune = Rune::new();
    let dir = tempfile::tempdir().unwrap();
    rune.cmd([
        "spec",
        "--rootless",
        "--bundle",
        dir.path().to_str().unwrap(),
    ])
    .run()
    .assert_ok();
    let spec = read_json(&dir.path().join("config.json"));
    let ns = ns_types(&spec);
    assert!(ns.contains(&"user".to_string()), "{ns:?}");
    assert!(!ns.contains(&"network".to_string()), "{ns:?}");
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    let egid = unsafe { libc::getegid() };
    assert_eq!(
        spec["linux"]["uidMappings"],
        json!([{"containerID": 0, "hostID": euid, "size": 1}])
    );
    assert_eq!(
        spec["linux"]["gidMappings"],
        json!([{"containerID": 0, "hostID": egid, "size": 1}])
    );
    assert!(
        spec["linux"]["resources"].is_null(),
        "no cgroup resources when rootless"
    );
    let sys = spec["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["destination"] == "/sys")
        .unwrap();
    assert!(
        sys["options"].as_array().unwrap().contains(&json!("rbind")),
        "{sys}"
    );
}

#[test]
fn spec_output_is_runnable() {
    // `spec` output with root.path pointed at a rootfs is a working bundle.
    let rune = Rune::new();
    let dir = tempfile::tempdir().unwrap();
    rune.cmd(["spec", "--bundle", dir.path().to_str().unwrap()])
        .run()
        .assert_ok();
    let cfg = dir.path().join("config.json");
    let mut spec = read_json(&cfg);
    spec["process"]["terminal"] = json!(false);
    spec["root"]["path"] = json!(rootfs().to_str().unwrap());
    spec["process"]["args"] = json!(["sh", "-c", "echo spec-ok"]);
    std::fs::write(&cfg, spec.to_string()).unwrap();
    let id = unique_id("specrun");
    rune.track(&id);
    let out = rune
        .cmd(["run", "--bundle", dir.path().to_str().unwrap(), id.as_str()])
        .run();
    out.assert_ok();
    assert_eq!(out.stdout, "spec-ok\n");
    assert!(!rune.root().join(&id).exists());
    // Without linux.cgroupsPath the cgroup is named after the id; it is gone too.
    for dir in cgroup_dirs_for(&id) {
        assert!(!dir.exists(), "{dir:?} left behind");
    }
}

#[test]
fn features_json() {
    let rune = Rune::new();
    let out = rune.cmd(["features"]).run();
    out.assert_ok();
    let f = out.json();
    let min = f["ociVersionMin"].as_str().expect("ociVersionMin");
    let max = f["ociVersionMax"].as_str().expect("ociVersionMax");
    assert!(
        min.starts_with("1.") && max.starts_with("1."),
        "{min} {max}"
    );
    let hooks: Vec<&str> = f["hooks"]
        .as_array()
        .expect("hooks")
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    for h in [
        "prestart",
        "createRuntime",
        "createContainer",
        "startContainer",
        "poststart",
        "poststop",
    ] {
        assert!(hooks.contains(&h), "hook {h} missing: {hooks:?}");
    }
    // This kernel (6.x) takes every flag rune knows, WAIT_KILLABLE_RECV (5.19) included.
    assert_eq!(
        f["linux"]["seccomp"]["supportedFlags"], f["linux"]["seccomp"]["knownFlags"],
        "{f}"
    );
    let opts = f["mountOptions"].as_array().expect("mountOptions");
    for o in [
        "ro", "rw", "bind", "rbind", "nosuid", "nodev", "noexec", "private", "rslave",
    ] {
        assert!(opts.contains(&json!(o)), "mount option {o} missing");
    }
    let ns = f["linux"]["namespaces"]
        .as_array()
        .expect("linux.namespaces");
    for n in ["cgroup", "ipc", "mount", "network", "pid", "user", "uts"] {
        assert!(ns.contains(&json!(n)), "namespace {n} missing");
    }
    let caps = f["linux"]["capabilities"]
        .as_array()
        .expect("linux.capabilities");
    for c in [
        "CAP_CHOWN",
        "CAP_KILL",
        "CAP_SYS_ADMIN",
        "CAP_NET_BIND_SERVICE",
        "CAP_AUDIT_WRITE",
    ] {
        assert!(caps.contains(&json!(c)), "capability {c} missing");
    }
    assert!(
        f["linux"]["cgroup"]["v1"] == true,
        "cgroup v1 support expected: {f}"
    );
}

#[test]
fn features_list_the_enclave_types_and_annotations() {
    let rune = Rune::new();
    let out = rune.cmd(["features"]).run();
    out.assert_ok();
    let ann = &out.json()["annotations"];
    let types = ann["run.oci.rune.enclave.types"].as_str().expect("types");
    for t in ["intelSgx", "awsNitroEnclaves", "jailhouse", "sim"] {
        assert!(types.split(',').any(|x| x == t), "{t} missing: {types}");
    }
    let keys = ann["run.oci.rune.enclave.annotations"]
        .as_str()
        .expect("keys");
    for k in [
        "enclave.type",
        "enclave.runtime.path",
        "enclave.runtime.args",
        "enclave.runtime.loglevel",
        "enclave.runtime.exit-status",
    ] {
        assert!(keys.split(',').any(|x| x == k), "{k} missing: {keys}");
    }
    assert_eq!(ann["run.oci.rune.enclave.exit-status"], "code,wait-status");
}

#[test]
fn spec_writes_the_exit_status_annotation() {
    let rune = Rune::new();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let enclave = [
        "--enclave-type",
        "sim",
        "--enclave-path",
        "/opt/pal.so",
        "--enclave-exit-status",
    ];
    let mut args = vec!["spec", "--bundle", d];
    args.extend(enclave);
    args.push("wait-status");
    rune.cmd(&args).run().assert_ok();
    let spec = read_json(&dir.path().join("config.json"));
    assert_eq!(
        spec["annotations"]["enclave.runtime.exit-status"],
        "wait-status"
    );
    let other = tempfile::tempdir().unwrap();
    let mut bad = vec!["spec", "--bundle", other.path().to_str().unwrap()];
    bad.extend(enclave);
    bad.push("status");
    rune.cmd(&bad)
        .run()
        .assert_fail_mentioning(&["enclave.runtime.exit-status"]);
    rune.cmd([
        "spec",
        "--bundle",
        other.path().to_str().unwrap(),
        "--enclave-exit-status",
        "code",
    ])
    .run()
    .assert_fail_mentioning(&["--enclave-type"]);
}
