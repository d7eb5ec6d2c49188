//! `--systemd-cgroup`: where systemd runs (pid 1, /run/systemd/system), the container's cgroup
//! is a transient scope unit that goes with the container; where it does not (this project's
//! machines), `create` fails with a clear error and leaves nothing: no state, no cgroup, no
//! process.

use rune_integration::*;
use std::path::{Path, PathBuf};

fn systemd_running() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

/// The unit's directory in every cgroup hierarchy.
fn unit_dirs(unit: &str) -> Vec<PathBuf> {
    cgroup_mounts()
        .into_iter()
        .map(|m| m.mountpoint.join("system.slice").join(unit))
        .collect()
}

/// Processes whose cgroup is the unit's.
fn processes_in(unit: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let cg = std::fs::read_to_string(e.path().join("cgroup")).unwrap_or_default();
        if cg.contains(unit) {
            found.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    found
}

#[track_caller]
fn assert_nothing_left(rune: &Rune, id: &str, unit: &str) {
    let left = || {
        let mut v: Vec<String> = unit_dirs(unit)
            .into_iter()
            .filter(|d| d.exists())
            .map(|d| format!("cgroup {}", d.display()))
            .collect();
        if rune.root().join(id).exists() {
            v.push(format!("state dir {}", rune.root().join(id).display()));
        }
        v.extend(
            processes_in(unit)
                .into_iter()
                .map(|p| format!("process {p}")),
        );
        v
    };
    wait_until(POLL_TIMEOUT, || left().is_empty());
    assert!(left().is_empty(), "left behind: {:?}", left());
    let list = rune.cmd(["list", "-q"]).run();
    list.assert_ok();
    assert!(!list.stdout.contains(id), "{list}");
}

#[test]
fn systemd_cgroup_run_makes_a_scope_or_says_systemd_is_missing() {
    let rune = Rune::new();
    let mut b = Bundle::new("sdcg");
    let unit = format!("rune-test-{}.scope", b.id);
    b.sh("cat /proc/self/cgroup");
    b.set(
        "/linux/cgroupsPath",
        json!(format!("system.slice:rune-test:{}", b.id)),
    );
    let out = with_systemd_cgroup(&rune, &b, "run");
    if systemd_running() {
        out.assert_ok();
        assert!(
            out.stdout.contains(&format!("/system.slice/{unit}")),
            "{out}"
        );
    } else {
        out.assert_fail_mentioning(&[
            "--systemd-cgroup: systemd is not running (no /run/systemd/system)",
        ]);
    }
    assert_nothing_left(&rune, &b.id, &unit);
}

/// `rune --systemd-cgroup <command> --bundle B ID`, the bundle written and its id tracked.
fn with_systemd_cgroup(rune: &Rune, b: &Bundle, command: &str) -> Output {
    b.write();
    rune.track(&b.id);
    rune.cmd([
        "--systemd-cgroup",
        command,
        "--bundle",
        b.path().to_str().unwrap(),
        &b.id,
    ])
    .run()
}

#[test]
fn systemd_cgroup_create_and_delete() {
    let rune = Rune::new();
    let mut b = Bundle::new("sdcd");
    let unit = format!("rune-{}.scope", b.id);
    b.args(&["sleep", "100"]);
    b.unset("/linux/cgroupsPath");
    let out = with_systemd_cgroup(&rune, &b, "create");
    if systemd_running() {
        out.assert_ok();
        // Empty cgroupsPath: system.slice:rune:<id>.
        let pids = rune.cmd(["ps", "--format", "json", &b.id]).run();
        pids.assert_ok();
        assert_eq!(processes_in(&unit).len(), 1, "{pids}");
        // delete finds the driver in the state, with or without the flag.
        rune.cmd(["delete", "--force", &b.id]).run().assert_ok();
    } else {
        out.assert_fail_mentioning(&["systemd is not running"]);
    }
    assert_nothing_left(&rune, &b.id, &unit);
}

#[test]
fn the_flag_does_not_stop_other_commands() {
    // containerd passes --systemd-cgroup to every command, list and delete included.
    let rune = Rune::new();
    rune.cmd(["--systemd-cgroup", "list"]).run().assert_ok();
    let f = rune.cmd(["features"]).run();
    f.assert_ok();
    assert!(
        f.stdout.contains(r#""systemd": true"#) || f.stdout.contains(r#""systemd":true"#),
        "{f}"
    );
}
