//! Linux namespaces: new ones, none, user mappings, joining by path.

use rune_integration::*;

fn host_ns(ns: &str) -> String {
    ns_link("self", ns)
}

const ALL_NS: &[(&str, &str)] = &[
    ("pid", "pid"),
    ("network", "net"),
    ("ipc", "ipc"),
    ("uts", "uts"),
    ("mount", "mnt"),
    ("cgroup", "cgroup"),
];

#[test]
fn configured_namespaces_are_new() {
    let mut b = Bundle::new("nsnew");
    b.namespace("cgroup", None);
    let script = ALL_NS
        .iter()
        .map(|(_, f)| format!("readlink /proc/self/ns/{f}"))
        .collect::<Vec<_>>()
        .join("; ");
    let out = run_in(&mut b, &script);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), ALL_NS.len(), "{out}");
    for ((typ, file), inside) in ALL_NS.iter().zip(lines) {
        assert!(inside.starts_with(&format!("{file}:[")), "{inside}");
        assert_ne!(inside, host_ns(file), "{typ} namespace should be new");
    }
}

#[test]
fn omitted_namespaces_are_shared_with_the_host() {
    let mut b = Bundle::new("nshost");
    for typ in ["network", "ipc", "uts"] {
        b.remove_namespace(typ);
    }
    // Without a UTS namespace the hostname cannot be set.
    b.unset("/hostname");
    let out = run_in(
        &mut b,
        "readlink /proc/self/ns/net; readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts; \
         readlink /proc/self/ns/cgroup",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], host_ns("net"));
    assert_eq!(lines[1], host_ns("ipc"));
    assert_eq!(lines[2], host_ns("uts"));
    assert_eq!(lines[3], host_ns("cgroup"), "no cgroup ns configured");
}

#[test]
fn pid_namespace_process_is_pid_1() {
    let mut b = Bundle::new("nspid");
    let out = run_in(&mut b, "echo $$; ls /proc | grep -c '^[0-9]'");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1");
    // Only the shell and its `ls`/`grep` children are visible.
    let n: usize = lines[1].parse().unwrap();
    assert!(n <= 4, "the pid namespace shows {n} processes");
}

#[test]
fn without_pid_namespace_process_is_not_pid_1() {
    let mut b = Bundle::new("nonspid");
    b.remove_namespace("pid");
    let out = run_in(&mut b, "echo $$");
    let pid: i32 = out.trim().parse().unwrap();
    assert!(pid > 1, "{out}");
}

#[test]
fn uts_hostname() {
    let mut b = Bundle::new("nsuts");
    b.hostname("box-one");
    let out = run_in(&mut b, "hostname; cat /proc/sys/kernel/hostname");
    assert_eq!(out, "box-one\nbox-one\n");
}

#[test]
fn uts_domainname() {
    // `domainname` is in the runtime spec since 1.1 (runc 1.1.5 ignores it).
    let mut b = Bundle::new("nsdomain");
    b.hostname("box-two")
        .set("/domainname", json!("example.test"));
    let out = run_in(&mut b, "hostname; cat /proc/sys/kernel/domainname");
    assert_eq!(out, "box-two\nexample.test\n");
}

#[test]
fn network_namespace_has_only_loopback() {
    let mut b = Bundle::new("nsnet");
    let out = run_in(&mut b, "cat /proc/net/dev");
    let ifaces: Vec<&str> = out
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    assert_eq!(ifaces, ["lo"], "{out}");
}

#[test]
fn ipc_namespace_is_private() {
    // A fresh ipc namespace, with no SysV message queues in it.
    let mut b = Bundle::new("nsipc");
    let out = run_in(
        &mut b,
        "readlink /proc/self/ns/ipc; cat /proc/sysvipc/msg | wc -l",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_ne!(lines[0], host_ns("ipc"));
    assert_eq!(lines[1].trim(), "1", "a fresh ipc namespace has no queues");
}

#[test]
fn cgroup_namespace_hides_cgroup_path() {
    let mut b = Bundle::new("nscg");
    b.namespace("cgroup", None);
    let out = run_in(&mut b, "cat /proc/self/cgroup");
    assert!(!out.is_empty());
    for line in out.lines() {
        let path = line.splitn(3, ':').nth(2).unwrap();
        assert_eq!(path, "/", "cgroup ns should root every hierarchy: {out}");
    }

    // Without it, the container sees its real cgroupsPath.
    let mut b = Bundle::new("nocgns");
    let id = b.id.clone();
    let out = run_in(&mut b, "cat /proc/self/cgroup");
    // The pids hierarchy's line, or on a pure v2 host the one line (`0::`).
    let ctrl = CgroupHost::probe().pick("pids", "");
    let pids = out
        .lines()
        .find(|l| l.split(':').nth(1) == Some(ctrl))
        .unwrap_or_else(|| panic!("no {ctrl:?} line: {out}"));
    assert!(pids.ends_with(&format!("/rune-test/{id}")), "{out}");
}

#[test]
fn user_namespace_with_mappings() {
    let mut b = Bundle::new("nsuser");
    b.namespace("user", None)
        .set(
            "/linux/uidMappings",
            json!([{"containerID": 0, "hostID": 200000, "size": 65536}]),
        )
        .set(
            "/linux/gidMappings",
            json!([{"containerID": 0, "hostID": 210000, "size": 1000}]),
        );
    let out = run_in(
        &mut b,
        "id -u; id -g; cat /proc/self/uid_map; cat /proc/self/gid_map; \
         readlink /proc/self/ns/user; stat -c %u /bin/busybox",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "0", "{out}");
    assert_eq!(lines[1], "0", "{out}");
    let uid_map: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(uid_map, ["0", "200000", "65536"]);
    let gid_map: Vec<&str> = lines[3].split_whitespace().collect();
    assert_eq!(gid_map, ["0", "210000", "1000"]);
    assert_ne!(lines[4], host_ns("user"));
    // Host root owns the rootfs and is unmapped inside: the overflow uid.
    assert_eq!(lines[5], "65534", "{out}");
}

#[test]
fn user_namespace_process_runs_as_mapped_host_uid() {
    let rune = Rune::new();
    let mut b = Bundle::new("nsuserhost");
    b.user_namespace(300000, 1000).args(&["sleep", "1000"]);
    let (_, pid) = rune.create_ok(&b);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid = proc_status_field(&status, "Uid").unwrap();
    assert_eq!(uid.split_whitespace().next(), Some("300000"), "{status}");
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

/// Root runs rune from a directory others cannot enter (as `cargo install` leaves it in
/// /root/.cargo/bin): a container whose root is another uid in a new user namespace still
/// starts, and its init still runs from a read-only mount of the binary (CVE-2019-5736).
#[test]
fn user_namespace_container_runs_from_a_binary_in_a_closed_directory() {
    use std::os::unix::fs::PermissionsExt;
    let closed = tempfile::tempdir().unwrap();
    std::fs::set_permissions(closed.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let bin = closed.path().join("rune");
    std::fs::copy(rune_bin(), &bin).unwrap();
    let rune = Rune::with_bin(bin);
    let mut b = Bundle::new("nsclosed");
    b.user_namespace(300000, 65536).args(&["sleep", "1000"]);
    let (_, pid) = rune.create_ok(&b);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid = proc_status_field(&status, "Uid").unwrap();
    assert_eq!(uid.split_whitespace().next(), Some("300000"), "{status}");
    let exe = std::ffi::CString::new(format!("/proc/{pid}/exe")).unwrap();
    // SAFETY: a zeroed statvfs is a valid out buffer; the path is NUL-terminated.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statvfs(exe.as_ptr(), &mut st) }, 0);
    assert_ne!(
        st.f_flag & libc::ST_RDONLY,
        0,
        "the init's binary is writable"
    );
    let exec = rune.cmd(["exec", &b.id, "id", "-u"]).run();
    exec.assert_ok();
    assert_eq!(exec.stdout.trim(), "0");
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

/// The enclave neighbour of the test above: the enclave runtime lives in a directory others
/// cannot enter (a PAL built under /root), and the container's root is another uid in a new
/// user namespace. The init loads the runtime from a descriptor `rune create` opened; before,
/// it failed "enclave runtime ...: Permission denied".
#[test]
fn user_namespace_enclave_loads_its_runtime_from_a_closed_directory() {
    use std::os::unix::fs::PermissionsExt;
    let closed = tempfile::tempdir().unwrap();
    std::fs::set_permissions(closed.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let lib = closed.path().join("liberpal-closed.so");
    std::fs::copy(skeleton_lib(3), &lib).unwrap();
    let rune = Rune::new();
    let mut b = Bundle::new("nsclosedpal");
    b.skeleton(3)
        .enclave_runtime_path(&lib)
        .user_namespace(300000, 65536)
        .sh("id -u; cat /proc/self/uid_map");
    let out = rune.run(&b);
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "0", "{out}");
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["0", "300000", "65536"],
        "{out}"
    );
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn join_namespaces_by_path() {
    let rune = Rune::new();
    let mut first = Bundle::new("nsowner");
    first.hostname("alpha").args(&["sleep", "1000"]);
    let (_, pid) = rune.create_ok(&first);

    let mut second = Bundle::new("nsjoiner");
    second
        .namespace("uts", Some(&format!("/proc/{pid}/ns/uts")))
        .namespace("network", Some(&format!("/proc/{pid}/ns/net")))
        .namespace("ipc", Some(&format!("/proc/{pid}/ns/ipc")))
        .unset("/hostname")
        .sh("hostname; readlink /proc/self/ns/net; readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts");
    let out = rune.run(&second);
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "alpha", "{out}");
    assert_eq!(lines[1], ns_link(&pid.to_string(), "net"));
    assert_eq!(lines[2], ns_link(&pid.to_string(), "ipc"));
    assert_eq!(lines[3], ns_link(&pid.to_string(), "uts"));
    assert_no_leaks(&rune, &second, None);

    // The first container is unaffected by the second one's exit.
    assert_eq!(rune.status(&first.id), "created");
    rune.delete_force(&first.id).assert_ok();
    assert_no_leaks(&rune, &first, Some(pid));
}

#[test]
fn join_nonexistent_namespace_path_fails() {
    let rune = Rune::new();
    let mut b = Bundle::new("nsbadpath");
    b.namespace("network", Some("/proc/999999999/ns/net"))
        .args(&["true"]);
    rune.create(&b).assert_fail_mentioning(&[
        "/proc/999999999/ns/net",
        "namespace",
        "no such file",
    ]);
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn time_namespace_with_boottime_offset() {
    // A new time namespace with a boottime offset: /proc/uptime inside starts past it; in a
    // new user namespace too (youki's "timens + userns"), where the offsets are written by
    // the namespace's own root.
    for userns in [false, true] {
        let mut b = Bundle::new("nstime");
        b.namespace("time", None).set(
            "/linux/timeOffsets",
            json!({"boottime": {"secs": 5_000_000, "nanosecs": 0}}),
        );
        if userns {
            b.user_namespace(300000, 65536);
        }
        let out = run_in(
            &mut b,
            "cut -d. -f1 /proc/uptime; readlink /proc/self/ns/time",
        );
        let mut lines = out.lines();
        let uptime: u64 = lines.next().unwrap_or("0").parse().unwrap_or(0);
        assert!(
            uptime >= 5_000_000,
            "userns {userns}: uptime {uptime}: {out}"
        );
        let host = std::fs::read_link("/proc/self/ns/time").unwrap();
        assert_ne!(lines.next().unwrap_or(""), host.to_str().unwrap(), "{out}");
    }
}
