//! `list` output formats and `--log` / `--log-format`.

use rune_integration::*;

#[test]
fn list_table_json_and_quiet() {
    let rune = Rune::new();

    // Empty root: just the header.
    let out = rune.cmd(["list"]).run();
    out.assert_ok();
    let header: Vec<&str> = out
        .stdout
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"],
        "{out}"
    );
    assert_eq!(out.stdout.lines().count(), 1, "{out}");
    rune.cmd(["list", "-q"]).run().assert_ok();
    assert_eq!(rune.cmd(["list", "-q"]).run().stdout.trim(), "");
    // runc's JSON for no container is `null`.
    let out = rune.cmd(["list", "-f", "json"]).run();
    out.assert_ok();
    assert_eq!(out.stdout, "null\n", "{out}");

    let mut a = Bundle::new("lista");
    a.args(&["sleep", "1000"]);
    let (_, pid_a) = rune.create_ok(&a);
    let mut b = Bundle::new("listb");
    b.args(&["sleep", "1000"]);
    let (_, pid_b) = rune.start_container(&b);

    let out = rune.cmd(["list"]).run();
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    );
    for (bundle, pid, status) in [(&a, pid_a, "created"), (&b, pid_b, "running")] {
        let row: Vec<&str> = lines
            .iter()
            .find(|l| l.split_whitespace().next() == Some(bundle.id.as_str()))
            .unwrap_or_else(|| panic!("no row for {} in:\n{out}", bundle.id))
            .split_whitespace()
            .collect();
        assert_eq!(row.len(), 6, "row {row:?}");
        assert_eq!(row[1], pid.to_string());
        assert_eq!(row[2], status);
        assert_eq!(row[3], bundle.path().to_str().unwrap());
        assert!(row[4].contains('T'), "created column {row:?}");
        assert_eq!(row[5], "root");
    }
    // The table columns line up: every row starts its fields at the header's offsets.
    let col = |l: &str, word: &str| l.find(word).unwrap();
    let status_col = col(lines[0], "STATUS");
    for l in &lines[1..] {
        let field = &l[status_col..];
        assert!(
            field.starts_with("created") || field.starts_with("running"),
            "misaligned STATUS column in {l:?}"
        );
    }

    let out = rune.cmd(["list", "-q"]).run();
    out.assert_ok();
    let mut ids: Vec<&str> = out.stdout.lines().collect();
    ids.sort_unstable();
    let mut want = vec![a.id.as_str(), b.id.as_str()];
    want.sort_unstable();
    assert_eq!(ids, want, "{out}");

    let out = rune.cmd(["list", "--format", "json"]).run();
    out.assert_ok();
    let v = out.json();
    let arr = v.as_array().expect("json list is an array");
    assert_eq!(arr.len(), 2);
    for (bundle, pid, status) in [(&a, pid_a, "created"), (&b, pid_b, "running")] {
        let e = arr
            .iter()
            .find(|e| e["id"] == bundle.id.as_str())
            .unwrap_or_else(|| panic!("{} missing from {v}", bundle.id));
        assert_eq!(e["pid"], pid);
        assert_eq!(e["status"], status);
        assert_eq!(e["bundle"], bundle.path().to_str().unwrap());
        assert!(e["created"].is_string());
        assert!(e["ociVersion"].is_string());
    }
    // -f short form
    rune.cmd(["list", "-f", "json"]).run().assert_ok().json();

    rune.delete_force(&a.id).assert_ok();
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &a, Some(pid_a));
    assert_no_leaks(&rune, &b, Some(pid_b));
    assert_eq!(rune.cmd(["list", "-q"]).run().stdout.trim(), "");
}

fn parse_json_log(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<Value>(l)
                .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l:?}"))
        })
        .collect()
}

#[test]
fn json_log_of_failed_command() {
    let rune = Rune::new();
    let log = rune.scratch().join("log.json");
    let id = unique_id("nolog");
    let out = rune
        .cmd(["start", id.as_str()])
        .global(["--log", log.to_str().unwrap(), "--log-format", "json"])
        .run();
    out.assert_fail();
    let text = std::fs::read_to_string(&log).expect("log file written");
    let lines = parse_json_log(&text);
    assert!(!lines.is_empty(), "empty log");
    for l in &lines {
        assert!(l["level"].is_string(), "no level in {l}");
        assert!(l["msg"].is_string(), "no msg in {l}");
        assert!(l["time"].is_string(), "no time in {l}");
    }
    let last = lines.last().unwrap();
    assert_eq!(last["level"], "error", "{last}");
    let msg = last["msg"].as_str().unwrap();
    assert!(
        msg.contains("not exist") || msg.contains(&id),
        "last log msg should carry the error: {msg:?}"
    );
}

#[test]
fn json_log_equals_form_and_create_error() {
    let rune = Rune::new();
    let log = rune.scratch().join("create.log");
    let mut b = Bundle::new("logcreate");
    b.args(&["/nonexistent-binary-xyz"]);
    b.write();
    rune.track(&b.id);
    let out = rune
        .cmd([
            "create",
            "--bundle",
            b.path().to_str().unwrap(),
            b.id.as_str(),
        ])
        .global([
            format!("--log={}", log.display()),
            "--log-format=json".to_string(),
        ])
        .run();
    out.assert_fail();
    let lines = parse_json_log(&std::fs::read_to_string(&log).unwrap());
    let last = lines.last().expect("log has lines");
    assert_eq!(last["level"], "error");
    assert!(
        last["msg"]
            .as_str()
            .unwrap()
            .contains("nonexistent-binary-xyz"),
        "{last}"
    );
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn text_log_of_failed_command() {
    let rune = Rune::new();
    let log = rune.scratch().join("log.txt");
    let id = unique_id("nolog");
    rune.cmd(["kill", id.as_str(), "KILL"])
        .global(["--log", log.to_str().unwrap()])
        .run()
        .assert_fail();
    let text = std::fs::read_to_string(&log).expect("log file written");
    let last = text.lines().last().expect("log has lines");
    assert!(last.contains("level=error"), "{last:?}");
    assert!(last.contains("msg="), "{last:?}");
    assert!(last.contains("time="), "{last:?}");
}

#[test]
fn version_flag() {
    let rune = Rune::new();
    let out = rune.cmd(["--version"]).run();
    out.assert_ok();
    assert!(out.stdout.to_lowercase().contains("version"), "{out}");
    assert!(out.stdout.contains("spec: 1."), "{out}");
}
