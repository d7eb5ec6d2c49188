//! `pause`/`resume` (freezer), `events` (stats and OOM notifications) and `ps`.

use rune_integration::*;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn read_trim(p: &Path) -> String {
    std::fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("read {p:?}: {e}"))
        .trim()
        .to_string()
}

fn cg(b: &Bundle, controller: &str, file: &str) -> PathBuf {
    cgroup_dir(controller, &b.cgroups_path_value().unwrap()).join(file)
}

/// The freezer's state as v1's freezer.state says it (FROZEN, THAWED); on cgroup v2 from
/// cgroup.freeze (what was asked) and the `frozen` line of cgroup.events (what the kernel did),
/// which must agree.
fn freezer_state(b: &Bundle) -> &'static str {
    if !cgroup_v2() {
        return match read_trim(&cg(b, "freezer", "freezer.state")).as_str() {
            "FROZEN" => "FROZEN",
            "THAWED" => "THAWED",
            other => panic!("freezer.state {other}"),
        };
    }
    let asked = read_trim(&cg(b, "", "cgroup.freeze"));
    let events = read_trim(&cg(b, "", "cgroup.events"));
    let frozen = events
        .lines()
        .find_map(|l| l.strip_prefix("frozen "))
        .unwrap_or_else(|| panic!("no frozen in cgroup.events: {events}"));
    match (asked.as_str(), frozen) {
        ("1", "1") => "FROZEN",
        ("0", "0") => "THAWED",
        _ => panic!("cgroup.freeze {asked}, cgroup.events frozen {frozen}"),
    }
}

fn procs(b: &Bundle) -> Vec<i64> {
    let mut v: Vec<i64> = read_trim(&cg(b, "pids", "cgroup.procs"))
        .lines()
        .filter_map(|l| l.parse().ok())
        .collect();
    v.sort_unstable();
    v
}

/// A container whose init increments a counter in `<dir>/count` (a host
/// directory bind-mounted at /mnt/a) every 50 ms. Each value is written aside and renamed in:
/// a freeze between the truncation and the write of `echo > count` would leave the file empty
/// for the whole pause.
fn counter(rune: &Rune, dir: &Path) -> (Bundle, i32) {
    let mut b = Bundle::new("pausecnt");
    b.bind(dir, "/mnt/a", &[]).sh(
        "i=0; while true; do i=$((i+1)); echo $i > /mnt/a/next; mv /mnt/a/next /mnt/a/count; \
         usleep 50000; done",
    );
    let (_, pid) = rune.start_container(&b);
    (b, pid)
}

/// The counter's value (None while the file is being rewritten).
fn count(dir: &Path) -> Option<u64> {
    std::fs::read_to_string(dir.join("count"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn wait_count_above(dir: &Path, n: u64) -> bool {
    wait_until(POLL_TIMEOUT, || count(dir).is_some_and(|c| c > n))
}

#[test]
fn pause_freezes_and_resume_thaws() {
    let rune = Rune::new();
    let dir = tempfile::tempdir().unwrap();
    let (b, pid) = counter(&rune, dir.path());
    assert!(wait_count_above(dir.path(), 1), "counter does not run");

    rune.cmd(["pause", b.id.as_str()]).run().assert_ok();
    assert_eq!(rune.status(&b.id), "paused");
    assert_eq!(freezer_state(&b), "FROZEN");
    let frozen = wait_until(POLL_TIMEOUT, || count(dir.path()).is_some());
    assert!(frozen, "counter file unreadable while paused");
    let before = count(dir.path()).unwrap();
    // Six ticks of the counter: long enough to see it does not move.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        count(dir.path()),
        Some(before),
        "counter advanced while paused"
    );

    // exec into a paused container fails (rather than hanging).
    let out = rune
        .cmd(["exec", b.id.as_str(), "true"])
        .timeout(Duration::from_secs(10))
        .run();
    out.assert_fail_mentioning(&["paused"]);
    rune.cmd(["resume", b.id.as_str()]).run().assert_ok();
    assert_eq!(rune.status(&b.id), "running");
    assert_eq!(freezer_state(&b), "THAWED");
    assert!(
        wait_count_above(dir.path(), before),
        "counter stuck after resume"
    );
    rune.cmd(["resume", b.id.as_str()])
        .run()
        .assert_fail_mentioning(&["not paused"]);

    // delete --force of a paused container kills it and leaves nothing.
    rune.cmd(["pause", b.id.as_str()]).run().assert_ok();
    assert_eq!(rune.status(&b.id), "paused");
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn pause_and_resume_of_stopped_or_missing_container_fail() {
    let rune = Rune::new();
    let mut b = Bundle::new("pausestop");
    b.args(&["true"]);
    let (_, pid) = rune.start_container(&b);
    assert!(rune.wait_status(&b.id, "stopped"));
    for (cmd, why) in [
        ("pause", "cannot pause a container that is stopped"),
        (
            "resume",
            "cannot resume a container that is stopped: it is not paused",
        ),
    ] {
        rune.cmd([cmd, b.id.as_str()])
            .run()
            .assert_fail_mentioning(&[why]);
    }
    assert_eq!(rune.status(&b.id), "stopped");
    rune.delete(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
    rune.cmd(["pause", "no-such-container-pause"])
        .run()
        .assert_fail_mentioning(&["no-such-container-pause", "does not exist"]);
}

#[test]
fn events_stats_prints_one_json_object() {
    let rune = Rune::new();
    let mut b = Bundle::new("evstats");
    b.sh("sleep 100000 & exec sleep 100000");
    let (_, pid) = rune.start_container(&b);
    assert!(wait_until(POLL_TIMEOUT, || procs(&b).len() == 2));
    let out = rune.cmd(["events", "--stats", b.id.as_str()]).run();
    out.assert_ok();
    assert_eq!(out.stdout.trim().lines().count(), 1, "{out}");
    let v = out.json();
    assert_eq!(v["type"], "stats", "{v}");
    assert_eq!(v["id"], b.id.as_str(), "{v}");
    let data = &v["data"];
    assert!(data["cpu"]["usage"]["total"].is_u64(), "{v}");
    let mem = data["memory"]["usage"]["usage"].as_u64().unwrap_or(0);
    assert!(mem > 0, "memory usage {v}");
    assert_eq!(data["pids"]["current"], 2, "{v}");
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

/// A long-running `events` process whose stdout lines arrive on a channel;
/// killed (by its pid) when dropped.
struct Events {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: PathBuf,
}

impl Events {
    fn start(rune: &Rune, args: &[&str]) -> Events {
        let stderr = rune
            .scratch()
            .join(format!("events-{}.stderr", unique_id("ev")));
        let mut child = rune
            .command()
            .arg("events")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("spawn events");
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Events {
            child,
            lines,
            stderr,
        }
    }

    /// The next line parsed as JSON, within `timeout`.
    #[track_caller]
    fn next(&self, timeout: Duration) -> Value {
        let line = self.lines.recv_timeout(timeout).unwrap_or_else(|e| {
            let err = std::fs::read_to_string(&self.stderr).unwrap_or_default();
            panic!("no events line ({e}); stderr: {err:?}")
        });
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"))
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn events_interval_streams_stats() {
    let rune = Rune::new();
    let mut b = Bundle::new("evstream");
    b.args(&["sleep", "100000"]);
    let (_, pid) = rune.start_container(&b);
    let ev = Events::start(&rune, &["--interval", "200ms", b.id.as_str()]);
    for _ in 0..2 {
        let v = ev.next(Duration::from_secs(10));
        assert_eq!(v["type"], "stats", "{v}");
        assert_eq!(v["id"], b.id.as_str(), "{v}");
        assert_eq!(v["data"]["pids"]["current"], 1, "{v}");
        assert!(v["data"]["cpu"]["usage"]["total"].is_u64(), "{v}");
    }
    drop(ev);
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

/// A container whose init waits on a FIFO, then runs `script` under a 32 MiB memory limit.
fn oom_container(rune: &Rune, prefix: &str, script: &str) -> (Bundle, i32, PathBuf) {
    let dir = rune.scratch().join(unique_id(prefix));
    std::fs::create_dir(&dir).unwrap();
    let fifo = dir.join("go");
    mkfifo(&fifo);
    let limit = 32 * 1024 * 1024;
    let mut b = Bundle::new(prefix);
    // No swap beyond the limit, where the kernel accounts swap.
    let mem = if swap_accounting() {
        json!({"limit": limit, "swap": limit})
    } else {
        json!({ "limit": limit })
    };
    b.set("/linux/resources/memory", mem)
        .bind(&dir, "/mnt/a", &[])
        .sh(&format!("read x < /mnt/a/go; {script}"));
    let (_, pid) = rune.start_container(&b);
    (b, pid, fifo)
}

/// The first line of `ev` that is not a stats line, which must be the container's OOM event.
#[track_caller]
fn expect_oom(ev: &Events, id: &str) {
    let deadline = Instant::now() + POLL_TIMEOUT;
    let oom = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let v = ev.next(left.max(Duration::from_millis(1)));
        if v["type"] != "stats" {
            break v;
        }
    };
    assert_eq!(oom["type"], "oom", "{oom}");
    assert_eq!(oom["id"], id, "{oom}");
    let keys: Vec<&String> = oom.as_object().unwrap().keys().collect();
    assert!(
        oom.get("data").is_none_or(Value::is_null),
        "oom event carries data: {keys:?}"
    );
}

#[test]
fn events_reports_oom_kill() {
    // Once `events` is streaming, a subshell (the OOM killer's first choice by its
    // oom_score_adj) allocates past the limit and is killed.
    let rune = Rune::new();
    let (b, pid, fifo) = oom_container(
        &rune,
        "evoom",
        "(echo 1000 > /proc/self/oom_score_adj; exec dd if=/dev/zero of=/dev/null bs=100M count=1); \
         exec sleep 100000",
    );
    let ev = Events::start(&rune, &["--interval", "200ms", b.id.as_str()]);
    // The first stats line: the events process is set up.
    assert_eq!(ev.next(Duration::from_secs(10))["type"], "stats");
    trigger(&fifo);
    expect_oom(&ev, &b.id);
    drop(ev);
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

/// When the OOM killer takes the init itself, the event still comes before the stream ends.
#[test]
fn events_reports_oom_kill_of_the_init() {
    let rune = Rune::new();
    let (b, pid, fifo) = oom_container(
        &rune,
        "evoominit",
        "exec dd if=/dev/zero of=/dev/null bs=100M count=1",
    );
    let mut ev = Events::start(&rune, &["--interval", "200ms", b.id.as_str()]);
    assert_eq!(ev.next(Duration::from_secs(10))["type"], "stats");
    trigger(&fifo);
    expect_oom(&ev, &b.id);
    assert!(rune.wait_status(&b.id, "stopped"));
    let deadline = Instant::now() + POLL_TIMEOUT;
    let status = loop {
        match ev.child.try_wait().unwrap() {
            Some(st) => break st,
            None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            None => panic!("events did not end after the container stopped"),
        }
    };
    assert!(status.success(), "{status}");
    rune.delete(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn ps_lists_host_pids() {
    let rune = Rune::new();
    let mut b = Bundle::new("ps");
    b.sh("sleep 100000 & exec sleep 100000");
    let (_, pid) = rune.start_container(&b);
    // Both processes, the init past its exec (its comm `sleep`, no longer `sh`).
    let comm = |p: i64| std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
    assert!(wait_until(POLL_TIMEOUT, || {
        let p = procs(&b);
        p.len() == 2 && p.iter().all(|p| comm(*p).trim() == "sleep")
    }));
    let want = procs(&b);
    assert!(want.contains(&(pid as i64)));

    let out = rune.cmd(["ps", b.id.as_str()]).run();
    out.assert_ok();
    let mut lines = out.stdout.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let col = header
        .iter()
        .position(|h| *h == "PID")
        .unwrap_or_else(|| panic!("no PID column: {out}"));
    let mut got: Vec<i64> = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().nth(col).unwrap().parse().unwrap())
        .collect();
    got.sort_unstable();
    assert_eq!(got, want, "{out}");

    for flag in ["--format", "-f"] {
        let out = rune.cmd(["ps", flag, "json", b.id.as_str()]).run();
        out.assert_ok();
        let mut got: Vec<i64> = out
            .json()
            .as_array()
            .unwrap_or_else(|| panic!("not an array: {out}"))
            .iter()
            .map(|p| p.as_i64().unwrap())
            .collect();
        got.sort_unstable();
        assert_eq!(got, want, "{out}");
    }

    // ps(1) options after the id, as with runc.
    let out = rune.cmd(["ps", b.id.as_str(), "-o", "pid,comm"]).run();
    out.assert_ok();
    let rows: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(rows[0].split_whitespace().next(), Some("PID"), "{out}");
    assert_eq!(rows.len(), 3, "{out}");
    assert!(rows[1..].iter().all(|r| r.ends_with("sleep")), "{out}");
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn exec_ignore_paused_runs_once_resumed() {
    let rune = Rune::new();
    let mut b = Bundle::new("ignpause");
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.start_container(&b);
    rune.cmd(["pause", b.id.as_str()]).run().assert_ok();
    // Resume from another thread while the exec waits for the frozen cgroup.
    let root = rune.root().to_path_buf();
    let bin = rune.bin().to_path_buf();
    let id = b.id.clone();
    let resumer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        std::process::Command::new(bin)
            .arg("--root")
            .arg(root)
            .args(["resume", &id])
            .status()
    });
    let out = rune.exec(&b.id, &["--ignore-paused", "--", "sh", "-c", "echo ran"]);
    assert!(resumer.join().unwrap().unwrap().success());
    out.assert_ok();
    assert_eq!(out.stdout, "ran\n");
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}
