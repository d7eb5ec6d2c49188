//! Bad `linux.resources` and `linux.seccomp` input: a non-zero exit, a
//! message naming the cause, and nothing left behind.

use rune_integration::*;

/// `create` must fail mentioning one of `keywords`, leaving no state, cgroup
/// or container behind.
#[track_caller]
fn create_fails(b: &Bundle, keywords: &[&str]) -> Output {
    let rune = Rune::new();
    let out = rune.create(b);
    out.assert_fail_mentioning(keywords);
    assert_no_leaks(&rune, b, None);
    let list = rune.cmd(["list", "-q"]).run();
    list.assert_ok();
    assert_eq!(list.stdout.trim(), "", "containers left behind: {list}");
    out
}

fn bundle_with(prefix: &str, edit: impl FnOnce(&mut Bundle)) -> Bundle {
    let mut b = Bundle::new(prefix);
    b.args(&["true"]);
    edit(&mut b);
    b
}

#[test]
fn unknown_key_in_a_resource_object_is_ignored() {
    // runc (Go's encoding/json) ignores unknown keys; so does rune.
    let rune = Rune::new();
    let mut b = Bundle::new("badreskey");
    b.set(
        "/linux/resources/memory",
        json!({"limit": 64 * 1024 * 1024, "bogusKey": 1}),
    )
    .set(
        "/linux/resources/pids",
        json!({"limit": 50, "notAField": "x"}),
    )
    .sh(CgroupHost::probe().pick(
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max",
        "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max",
    ));
    let out = rune.run(&b);
    out.assert_ok();
    assert_eq!(out.stdout, "67108864\n50\n");
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn negative_memory_limit() {
    // -1 means unlimited; any other negative value is an error (runc 1.1.5
    // fails writing it: `failed to write "-5": .../memory.limit_in_bytes:
    // invalid argument`).
    let b = bundle_with("badmemneg", |b| {
        b.set("/linux/resources/memory", json!({"limit": -5}));
    });
    let out = create_fails(&b, &["memory"]);
    assert!(out.stderr.contains("-5"), "the value is not named: {out}");
    // -1 itself is fine.
    let rune = Rune::new();
    let mut ok = Bundle::new("memunlimited");
    ok.set("/linux/resources/memory", json!({"limit": -1}))
        .args(&["true"]);
    rune.run(&ok).assert_ok();
    assert_no_leaks(&rune, &ok, None);
}

#[test]
fn pids_limit_not_a_number() {
    let b = bundle_with("badpids", |b| {
        b.set("/linux/resources/pids", json!({"limit": "many"}));
    });
    create_fails(&b, &["invalid config.json", "many", "expected i64"]);
}

#[test]
fn device_rule_with_bad_access() {
    // The access string may only hold r, w and m. (runc 1.1.5 accepts
    // "xyz" silently; rejecting it is the documented intent here.)
    let b = bundle_with("baddevacc", |b| {
        b.array_push(
            "/linux/resources/devices",
            json!({"allow": true, "type": "c", "major": 1, "minor": 3, "access": "xyz"}),
        );
    });
    create_fails(&b, &["access", "xyz"]);
}

#[test]
fn device_rule_with_bad_type() {
    let b = bundle_with("baddevtype", |b| {
        b.array_push(
            "/linux/resources/devices",
            json!({"allow": true, "type": "q", "major": 1, "minor": 3, "access": "r"}),
        );
    });
    create_fails(&b, &["invalid config.json", "unknown variant `q`"]);
}

/// The device types of the cgroup rules are a, b and c (config-linux.md, runc). A `p` (or `u`) rule used to reach the
/// kernel as type `a`, so `{"allow": true, "type": "p"}` allowed every device; an empty access
/// reached it as a malformed rule (or, for type `a`, again as "everything").
#[test]
fn device_rule_of_a_node_type_or_empty_access_is_refused() {
    for (prefix, rule, words) in [
        (
            "baddevfifo",
            json!({"allow": true, "type": "p", "major": 1, "minor": 11, "access": "rwm"}),
            &["invalid cgroup device type", r#"type \"p\""#][..],
        ),
        (
            "baddevunbuf",
            json!({"allow": true, "type": "u", "major": 1, "minor": 11, "access": "rwm"}),
            &["invalid cgroup device type", r#"type \"u\""#][..],
        ),
        (
            "baddevempty",
            json!({"allow": true, "type": "a", "access": ""}),
            &["access cannot be empty"][..],
        ),
    ] {
        let b = bundle_with(prefix, |b| {
            b.array_push("/linux/resources/devices", rule);
        });
        let out = create_fails(&b, &[words[0]]);
        for w in words {
            assert!(out.stderr.contains(w), "{w:?} not in: {out}");
        }
        assert!(
            out.stderr.contains("devices[1]"),
            "the rule is not named: {out}"
        );
    }
}

/// `linux.resources.unified` holds cgroup v2 files: on a v1 (or hybrid) host, an error in
/// runc's words, before anything is made. On a pure v2 host they are written as given (the
/// container sees its pids.max), and a key that names no file is an error naming it.
#[test]
fn unified_resources_on_a_v1_host_are_an_invalid_configuration() {
    let b = bundle_with("badunified", |b| {
        b.set("/linux/resources/unified", json!({"pids.max": "10"}));
    });
    if !cgroup_v2() {
        create_fails(
            &b,
            &["invalid configuration: cannot use unified on cgroup v1"],
        );
        return;
    }
    let rune = Rune::new();
    let mut b = b;
    b.sh("cat /sys/fs/cgroup/pids.max");
    let out = rune.run(&b);
    out.assert_ok();
    assert_eq!(out.stdout, "10\n");
    assert_no_leaks(&rune, &b, None);
    let bad = bundle_with("badunifiedkey", |b| {
        b.set("/linux/resources/unified", json!({"pids.nope": "10"}));
    });
    create_fails(&bad, &["pids.nope"]);
}

#[test]
fn unknown_seccomp_action() {
    let b = bundle_with("badsecact", |b| {
        b.set(
            "/linux/seccomp",
            json!({"defaultAction": "SCMP_ACT_ALLOW",
                   "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOPE"}]}),
        );
    });
    create_fails(&b, &["SCMP_ACT_NOPE"]);
    let b = bundle_with("badsecdefact", |b| {
        b.set("/linux/seccomp", json!({"defaultAction": "SCMP_ACT_NOPE"}));
    });
    create_fails(&b, &["SCMP_ACT_NOPE"]);
}

#[test]
fn unknown_seccomp_architecture() {
    let b = bundle_with("badsecarch", |b| {
        b.set(
            "/linux/seccomp",
            json!({"defaultAction": "SCMP_ACT_ALLOW",
                   "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_NOPE"],
                   "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}),
        );
    });
    create_fails(&b, &["SCMP_ARCH_NOPE"]);
}

#[test]
fn unknown_seccomp_operator() {
    let b = bundle_with("badsecop", |b| {
        b.set(
            "/linux/seccomp",
            json!({"defaultAction": "SCMP_ACT_ALLOW",
                   "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ERRNO",
                                 "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_NOPE"}]}]}),
        );
    });
    create_fails(&b, &["SCMP_CMP_NOPE"]);
}

#[test]
fn cpu_shares_out_of_range_are_refused_before_anything_is_made() {
    // The kernel clamps v1 shares silently; runc refuses them with the range.
    for shares in [1u64 << 62, 1] {
        let b = bundle_with("badshares", |b| {
            b.set("/linux/resources/cpu", json!({ "shares": shares }));
        });
        let out = create_fails(&b, &["cpu.shares"]);
        assert!(
            out.stderr.contains("262144"),
            "the range is not named: {out}"
        );
    }
}

#[test]
fn a_memory_limit_too_small_to_start_is_named() {
    let b = bundle_with("badmemsmall", |b| {
        b.set("/linux/resources/memory", json!({ "limit": 4096 }));
    });
    let out = create_fails(&b, &["memory"]);
    assert!(
        out.stderr.contains("4096") && out.stderr.contains("limit"),
        "the limit is not named: {out}"
    );
}
