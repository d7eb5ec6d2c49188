//! `run`: exit codes, detach, keep.

use rune_integration::*;

#[test]
fn run_prints_output_and_cleans_up() {
    let rune = Rune::new();
    let mut b = Bundle::new("runout");
    b.sh("echo out-line; echo err-line >&2");
    let out = rune.run(&b);
    out.assert_ok();
    assert_eq!(out.stdout, "out-line\n");
    assert!(out.stderr.contains("err-line"), "{out}");
    assert_no_leaks(&rune, &b, None);
    rune.state_raw(&b.id).assert_fail();
}

#[test]
fn run_exit_code_is_process_exit_code() {
    let rune = Rune::new();
    for code in [0, 1, 42, 255] {
        let mut b = Bundle::new("runexit");
        b.sh(&format!("exit {code}"));
        let out = rune.run(&b);
        assert_eq!(out.exit_code(), code, "{out}");
        assert_no_leaks(&rune, &b, None);
    }
}

#[test]
fn run_exit_code_when_killed_by_signal() {
    let rune = Rune::new();
    // pid 1 of a pid namespace cannot be killed by its own signals, so the
    // process runs without one here.
    for (sig, code) in [("KILL", 137), ("TERM", 143)] {
        let mut b = Bundle::new("runsig");
        b.remove_namespace("pid");
        b.sh(&format!("kill -{sig} $$"));
        let out = rune.run(&b);
        assert_eq!(out.exit_code(), code, "{out}");
        assert_no_leaks(&rune, &b, None);
    }
}

#[test]
fn run_killed_from_outside_reports_128_plus_signal() {
    let rune = Rune::new();
    let mut b = Bundle::new("runkill");
    b.args(&["sleep", "1000"]);
    let out = rune.run_killed(&b, "KILL");
    assert_eq!(out.exit_code(), 137, "{out}");
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn run_detach_leaves_container_running() {
    let rune = Rune::new();
    let mut b = Bundle::new("rund");
    b.args(&["sleep", "1000"]);
    let pid_file = rune.pid_file(&b.id);
    let out = rune.run_with(&b, &["-d", "--pid-file", pid_file.to_str().unwrap()]);
    out.assert_ok();
    let pid = read_pid_file(&pid_file);
    let st = rune.state(&b.id);
    assert_eq!(st["status"], "running", "{st}");
    assert_eq!(st["pid"], pid);
    assert!(pid_alive(pid));

    rune.kill(&b.id, Some("KILL")).assert_ok();
    assert!(rune.wait_status(&b.id, "stopped"));
    rune.delete(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn run_detach_long_flag() {
    let rune = Rune::new();
    let mut b = Bundle::new("rundetach");
    b.args(&["sleep", "1000"]);
    rune.run_with(&b, &["--detach"]).assert_ok();
    assert_eq!(rune.status(&b.id), "running");
    let pid = rune.state(&b.id)["pid"].as_i64().unwrap() as i32;
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn run_keep_leaves_stopped_container() {
    let rune = Rune::new();
    let mut b = Bundle::new("runkeep");
    b.sh("echo kept; exit 5");
    let out = rune.run_with(&b, &["--keep"]);
    assert_eq!(out.exit_code(), 5, "{out}");
    assert_eq!(out.stdout, "kept\n");
    let st = rune.state(&b.id);
    assert_eq!(st["status"], "stopped", "{st}");
    assert_eq!(st["id"], b.id.as_str());
    rune.delete(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn run_twice_with_same_id_after_exit() {
    let rune = Rune::new();
    let mut b = Bundle::new("rerun");
    b.args(&["true"]);
    rune.run(&b).assert_ok();
    rune.run(&b).assert_ok();
    assert_no_leaks(&rune, &b, None);
}
