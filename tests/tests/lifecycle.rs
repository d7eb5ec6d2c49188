//! create / start / state / kill / delete.

use rune_integration::*;
use std::path::Path;

/// A container whose process prints a marker and then waits, reporting
/// SIGTERM on its stdout (pid 1 ignores signals it has no handler for).
fn waiting_bundle(prefix: &str) -> Bundle {
    let mut b = Bundle::new(prefix);
    b.sh("trap 'echo got-TERM; exit 3' TERM; echo started; while true; do sleep 0.05; done");
    b
}

#[test]
fn create_start_state_kill_delete() {
    let rune = Rune::new();
    let b = waiting_bundle("life");
    let (create_out, pid) = rune.create_ok(&b);
    assert!(pid > 0 && pid_alive(pid), "init pid {pid} should be alive");

    let st = rune.state(&b.id);
    assert_eq!(st["status"], "created", "{st}");
    assert_eq!(st["id"], b.id.as_str());
    assert_eq!(st["pid"], pid, "state pid must match the pid file");
    assert!(
        st["ociVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("1.")),
        "{st}"
    );
    let bundle = st["bundle"].as_str().expect("bundle field");
    assert!(
        Path::new(bundle).is_absolute(),
        "bundle must be absolute: {st}"
    );
    assert_eq!(
        Path::new(bundle).canonicalize().unwrap(),
        b.path().canonicalize().unwrap()
    );
    let created = st["created"].as_str().expect("created field");
    assert!(
        created.len() >= 20 && created.as_bytes()[4] == b'-' && created.contains('T'),
        "created should be an RFC 3339 timestamp: {created}"
    );
    // runc also prints the absolute rootfs and an owner string.
    assert_eq!(st["rootfs"], rootfs().to_str().unwrap(), "{st}");
    assert!(st["owner"].is_string(), "{st}");
    // The process has not run yet.
    assert!(!create_out.stdout_now().contains("started"));

    rune.start(&b.id).assert_ok();
    assert_eq!(rune.status(&b.id), "running");
    assert_eq!(rune.state(&b.id)["pid"], pid);
    assert!(
        wait_until(POLL_TIMEOUT, || create_out.stdout_now().contains("started")),
        "the container process did not run: {:?}",
        create_out.stdout_now()
    );

    // Default signal is SIGTERM.
    rune.kill(&b.id, None).assert_ok();
    assert!(rune.wait_status(&b.id, "stopped"), "container did not stop");
    assert!(
        wait_until(POLL_TIMEOUT, || create_out
            .stdout_now()
            .contains("got-TERM")),
        "default kill signal should be SIGTERM: {:?}",
        create_out.stdout_now()
    );
    assert!(!pid_alive(pid));

    rune.delete(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
    rune.state_raw(&b.id).assert_fail();
}

#[test]
fn state_of_created_container_has_annotations() {
    let rune = Rune::new();
    let mut b = Bundle::new("annot");
    b.set("/annotations", json!({"org.example.key": "value-1"}));
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.create_ok(&b);
    let st = rune.state(&b.id);
    assert_eq!(st["annotations"]["org.example.key"], "value-1", "{st}");
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn kill_signal_forms() {
    for sig in ["KILL", "9", "SIGKILL"] {
        let rune = Rune::new();
        let b = waiting_bundle("killform");
        let (_, pid) = rune.start_container(&b);
        rune.kill(&b.id, Some(sig)).assert_ok();
        assert!(
            rune.wait_status(&b.id, "stopped"),
            "kill {sig} did not stop the container"
        );
        assert!(!pid_alive(pid), "kill {sig}: init still alive");
        rune.delete(&b.id).assert_ok();
        assert_no_leaks(&rune, &b, Some(pid));
    }
}

#[test]
fn kill_created_container_stops_it() {
    let rune = Rune::new();
    let mut b = Bundle::new("killcreated");
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.create_ok(&b);
    rune.kill(&b.id, Some("KILL")).assert_ok();
    assert!(rune.wait_status(&b.id, "stopped"));
    // Signalling a stopped container is an error.
    rune.kill(&b.id, Some("KILL")).assert_fail();
    rune.delete(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn kill_all_kills_every_process() {
    let rune = Rune::new();
    let mut b = Bundle::new("killall");
    // Without a pid namespace, killing init does not take the others with it.
    b.remove_namespace("pid");
    b.sh("sleep 1000 & sleep 1000 & echo ready; wait");
    let (out, pid) = rune.start_container(&b);
    assert!(wait_until(POLL_TIMEOUT, || out
        .stdout_now()
        .contains("ready")));
    let procs_file = cgroup_dir("pids", &b.cgroups_path_value().unwrap()).join("cgroup.procs");
    let procs: Vec<i32> = std::fs::read_to_string(&procs_file)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert!(
        procs.len() >= 3,
        "expected init + 2 sleeps in {procs_file:?}: {procs:?}"
    );

    rune.cmd(["kill", "--all", b.id.as_str(), "9"])
        .run()
        .assert_ok();
    assert!(rune.wait_status(&b.id, "stopped"));
    for p in &procs {
        assert!(
            wait_until(POLL_TIMEOUT, || !pid_alive(*p)),
            "process {p} survived kill --all"
        );
    }
    rune.delete(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn delete_running_container_fails_without_force() {
    let rune = Rune::new();
    let mut b = Bundle::new("delrun");
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.start_container(&b);
    rune.delete(&b.id).assert_fail();
    assert_eq!(rune.status(&b.id), "running");
    assert!(pid_alive(pid));

    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
    rune.state_raw(&b.id).assert_fail();
}

#[test]
fn delete_force_of_created_container() {
    let rune = Rune::new();
    let mut b = Bundle::new("delcreated");
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.create_ok(&b);
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn delete_nonexistent_container() {
    let rune = Rune::new();
    let id = unique_id("nosuch");
    rune.delete(&id)
        .assert_fail_mentioning(&["container", &id, "does not exist"]);
    rune.delete_force(&id).assert_ok();
    rune.state_raw(&id)
        .assert_fail_mentioning(&["container", &id, "does not exist"]);
    rune.start(&id).assert_fail();
    rune.kill(&id, Some("KILL")).assert_fail();
}

#[test]
fn start_twice_fails() {
    let rune = Rune::new();
    let mut b = Bundle::new("starttwice");
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.start_container(&b);
    rune.start(&b.id).assert_fail();
    assert_eq!(rune.status(&b.id), "running");
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn stopped_after_process_exits() {
    let rune = Rune::new();
    let mut b = Bundle::new("exits");
    b.args(&["true"]);
    let (_, pid) = rune.start_container(&b);
    assert!(rune.wait_status(&b.id, "stopped"));
    let st = rune.state(&b.id);
    assert_eq!(st["status"], "stopped");
    rune.delete(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn flag_equals_value_forms() {
    let rune = Rune::new();
    let mut b = Bundle::new("eqforms");
    b.args(&["sleep", "1000"]);
    b.write();
    rune.track(&b.id);
    let pid_file = rune.scratch().join("eq.pid");
    rune.cmd([
        "create".to_string(),
        format!("--bundle={}", b.path().display()),
        format!("--pid-file={}", pid_file.display()),
        b.id.clone(),
    ])
    .run()
    .assert_ok();
    let pid = read_pid_file(&pid_file);
    assert_eq!(rune.state(&b.id)["pid"], pid);

    // Global --root=DIR form: the same container is visible.
    let out = rune
        .cmd(["state", b.id.as_str()])
        .without_root()
        .global([format!("--root={}", rune.root().display())])
        .run();
    out.assert_ok();
    assert_eq!(out.json()["id"], b.id.as_str());

    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn short_bundle_flag() {
    let rune = Rune::new();
    let mut b = Bundle::new("shortb");
    b.args(&["true"]);
    b.write();
    rune.track(&b.id);
    let bundle = b.path().to_str().unwrap().to_string();
    rune.cmd(["run", "-b", bundle.as_str(), b.id.as_str()])
        .run()
        .assert_ok();
    assert_no_leaks(&rune, &b, None);
}

/// Deleting a stopped container whose cgroup is not empty: a process its init left behind
/// (no pid namespace to take it along) is killed, and a child cgroup made in the container's is
/// removed with it, so nothing is left (delete first tries the empty cgroup's quick removal).
#[test]
fn delete_of_a_stopped_container_removes_what_its_init_left() {
    let rune = Rune::new();
    let mut b = Bundle::new("leftbehind");
    b.remove_namespace("pid");
    b.sh("sleep 1000 & echo started");
    let (_, pid) = rune.start_container(&b);
    assert!(rune.wait_status(&b.id, "stopped"));
    let cg = b.cgroups_path_value().unwrap();
    let procs = cgroup_dir("pids", &cg).join("cgroup.procs");
    let left: Vec<i32> = std::fs::read_to_string(&procs)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(left.len(), 1, "the sleep left behind: {left:?}");
    std::fs::create_dir(cgroup_dir("pids", &cg).join("child")).unwrap();
    rune.delete(&b.id).assert_ok();
    assert!(wait_until(POLL_TIMEOUT, || !pid_alive(left[0])));
    assert!(!cgroup_dir("pids", &cg).exists());
    assert_no_leaks(&rune, &b, Some(pid));
}
