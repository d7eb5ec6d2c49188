//! The rest of config-linux and process: personality, scheduler, I/O priority, CPU affinity,
//! memory policy, netDevices, and the settings this host cannot honour (intelRdt without
//! resctrl: an error; AppArmor and SELinux labels without those LSMs: ignored, as runc does).

use rune_integration::*;
use serde_json::json;

#[test]
fn personality_linux32() {
    let mut b = Bundle::new("pers");
    b.set("/linux/personality", json!({"domain": "LINUX32"}));
    assert_eq!(run_in(&mut b, "uname -m").trim(), "i686");
}

#[test]
fn scheduler_policy_and_nice() {
    let mut b = Bundle::new("sched");
    b.set(
        "/process/scheduler",
        json!({"policy": "SCHED_BATCH", "nice": 7}),
    );
    // /proc/self/stat: field 19 is nice, field 41 the policy (3 = SCHED_BATCH).
    let out = run_in(&mut b, "cut -d' ' -f19,41 /proc/self/stat");
    assert_eq!(out.trim(), "7 3");
}

#[test]
fn io_priority() {
    let mut b = Bundle::new("ioprio");
    b.set(
        "/process/ioPriority",
        json!({"class": "IOPRIO_CLASS_BE", "priority": 6}),
    );
    let out = run_in(&mut b, "ionice -p $$");
    assert!(out.contains("best-effort") && out.contains('6'), "{out}");
}

#[test]
fn exec_cpu_affinity() {
    let mut b = Bundle::new("affin");
    b.set("/process/execCPUAffinity", json!({"final": "1"}));
    let out = run_in(&mut b, "grep Cpus_allowed_list /proc/self/status");
    assert_eq!(out.split_whitespace().last(), Some("1"), "{out}");
}

#[test]
fn memory_policy_bind() {
    let mut b = Bundle::new("mempol");
    b.set(
        "/linux/memoryPolicy",
        json!({"mode": "MPOL_BIND", "nodes": "0"}),
    );
    let out = run_in(&mut b, "grep -c 'bind:0' /proc/self/numa_maps");
    assert!(out.trim().parse::<u32>().unwrap_or(0) > 0, "{out}");
}

/// A veth pair on the host named `<prefix><pid>` and its peer `<prefix><pid>p`; returns the
/// first name.
fn veth(prefix: &str) -> String {
    let host = format!("{prefix}{}", std::process::id() % 100000);
    let peer = format!("{host}p");
    let st = std::process::Command::new("ip")
        .args(["link", "add", &host, "type", "veth", "peer", "name", &peer])
        .status()
        .unwrap();
    assert!(st.success(), "ip link add {host}");
    host
}

#[test]
fn net_device_moves_in_and_back() {
    let rune = Rune::new();
    let host = veth("rn");
    let mut b = Bundle::new("netdev");
    b.set(
        "/linux/netDevices",
        json!({ host.clone(): {"name": "eth7"} }),
    )
    .args(&["sleep", "1000"]);
    let (_, pid) = rune.start_container(&b);
    let out = rune.exec(&b.id, &["ip", "link", "show", "eth7"]);
    out.assert_ok();
    let on_host = |name: &str| {
        std::process::Command::new("ip")
            .args(["link", "show", name])
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(!on_host(&host), "{host} still on the host");
    rune.delete_force(&b.id).assert_ok();
    // Back on the host under its own name (its veth peer never left).
    assert!(on_host(&host), "{host} did not come back");
    let _ = std::process::Command::new("ip")
        .args(["link", "del", &host])
        .status();
    assert_no_leaks(&rune, &b, Some(pid));
}

/// `run` starts the program once the device is in: its first command finds it (run lets the
/// init go on before it writes the container's record, never before the device is moved).
#[test]
fn run_starts_the_program_with_its_net_device_in_place() {
    let rune = Rune::new();
    let host = veth("rr");
    let mut b = Bundle::new("runnetdev");
    b.set(
        "/linux/netDevices",
        json!({ host.clone(): {"name": "eth8"} }),
    )
    .sh("ip link show eth8 >/dev/null && echo present");
    let out = rune.run(&b);
    let _ = std::process::Command::new("ip")
        .args(["link", "del", &host])
        .status();
    out.assert_ok();
    assert_eq!(out.stdout, "present\n", "{out}");
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn missing_net_device_is_a_clear_error() {
    let rune = Rune::new();
    let mut b = Bundle::new("netdev404");
    b.set("/linux/netDevices", json!({"rune-nope0": {}}));
    rune.run(&b).assert_fail_mentioning(&["rune-nope0"]);
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn intel_rdt_without_resctrl_is_a_clear_error() {
    let rune = Rune::new();
    let mut b = Bundle::new("rdt");
    b.set(
        "/linux/intelRdt",
        json!({"closID": "x", "l3CacheSchema": "L3:0=f"}),
    );
    rune.run(&b).assert_fail_mentioning(&["intelRdt"]);
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn lsm_labels_are_refused_where_the_host_has_no_lsm() {
    // This host runs neither AppArmor nor SELinux (as checked below): runc refuses each of
    // these, and so does rune, up front, leaving nothing behind.
    assert!(
        !std::path::Path::new("/sys/module/apparmor/parameters/enabled").exists()
            || std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
                .unwrap()
                .trim()
                != "Y"
    );
    assert!(!std::path::Path::new("/sys/fs/selinux/enforce").exists());
    let rune = Rune::new();
    for (pointer, value, words) in [
        (
            "/process/apparmorProfile",
            "docker-default",
            "AppArmor is not enabled",
        ),
        (
            "/process/selinuxLabel",
            "system_u:system_r:container_t:s0",
            "SELinux is not enabled",
        ),
        (
            "/linux/mountLabel",
            "system_u:object_r:container_file_t:s0",
            "SELinux is not enabled",
        ),
    ] {
        let mut b = Bundle::new("lsm");
        b.set(pointer, json!(value)).args(&["true"]);
        rune.run(&b).assert_fail_mentioning(&[words]);
        assert_no_leaks(&rune, &b, None);
        // An empty value asks for nothing.
        let mut b = Bundle::new("lsmempty");
        b.set(pointer, json!("")).args(&["true"]);
        rune.run(&b).assert_ok();
    }
}
