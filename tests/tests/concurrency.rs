//! Several runtime processes racing on the same containers.

use rune_integration::*;
use std::sync::Barrier;

const STATUSES: &[&str] = &["creating", "created", "running", "stopped"];

/// A `state` result during a race: a failure, or well-formed JSON for `id`.
#[track_caller]
fn check_state_output(out: &Output, id: &str) {
    assert!(!out.timed_out, "state hung:\n{out}");
    if out.success() {
        let v: Value = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("state exited 0 with corrupt JSON ({e}):\n{out}"));
        assert_eq!(v["id"], id, "{out}");
        let status = v["status"].as_str().unwrap_or_default();
        assert!(STATUSES.contains(&status), "bad status {status:?}:\n{out}");
        assert!(v["pid"].is_number(), "{out}");
        assert!(v["bundle"].is_string(), "{out}");
    } else {
        assert!(out.code.is_some_and(|c| c != 0), "{out}");
        assert!(
            !out.stderr.trim().is_empty(),
            "failure without a message:\n{out}"
        );
    }
}

#[test]
fn racing_state_kill_delete_never_corrupt_state() {
    let rune = Rune::new();
    for _round in 0..3 {
        let mut b = Bundle::new("race");
        b.args(&["sleep", "100000"]);
        let (_, pid) = rune.start_container(&b);
        let id = b.id.as_str();
        let n_state = 10;
        let barrier = Barrier::new(n_state + 3);
        let (states, kill, deletes) = std::thread::scope(|s| {
            let states: Vec<_> = (0..n_state)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        (0..5).map(|_| rune.state_raw(id)).collect::<Vec<_>>()
                    })
                })
                .collect();
            let kill = s.spawn(|| {
                barrier.wait();
                rune.kill(id, Some("KILL"))
            });
            let deletes: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        rune.delete_force(id)
                    })
                })
                .collect();
            (
                states
                    .into_iter()
                    .flat_map(|h| h.join().unwrap())
                    .collect::<Vec<_>>(),
                kill.join().unwrap(),
                deletes
                    .into_iter()
                    .map(|h| h.join().unwrap())
                    .collect::<Vec<_>>(),
            )
        });
        for out in &states {
            check_state_output(out, id);
        }
        assert!(!kill.timed_out, "{kill}");
        for d in &deletes {
            assert!(!d.timed_out, "{d}");
        }
        assert!(
            deletes.iter().any(Output::success),
            "no delete --force succeeded: {deletes:?}"
        );
        // Whatever the interleaving, the container ends up fully gone.
        rune.delete_force(id).assert_ok();
        rune.state_raw(id).assert_fail();
        assert_no_leaks(&rune, &b, Some(pid));
    }
}

#[test]
fn concurrent_state_of_running_container_is_consistent() {
    let rune = Rune::new();
    let mut b = Bundle::new("statemany");
    b.args(&["sleep", "100000"]);
    let (_, pid) = rune.start_container(&b);
    let barrier = Barrier::new(10);
    let outs: Vec<Output> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..10)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    rune.state_raw(&b.id)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for out in outs {
        out.assert_ok();
        let v = out.json();
        assert_eq!(v["status"], "running");
        assert_eq!(v["pid"], pid);
    }
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn concurrent_create_of_same_id_exactly_one_wins() {
    let rune = Rune::new();
    for _round in 0..5 {
        let mut b = Bundle::new("dupcreate");
        b.args(&["sleep", "100000"]);
        b.write();
        rune.track(&b.id);
        let barrier = Barrier::new(2);
        let pid_files = [
            rune.scratch().join(format!("{}-a.pid", b.id)),
            rune.scratch().join(format!("{}-b.pid", b.id)),
        ];
        let outs: Vec<Output> = std::thread::scope(|s| {
            let hs: Vec<_> = pid_files
                .iter()
                .map(|pf| {
                    let (b, barrier, rune) = (&b, &barrier, &rune);
                    s.spawn(move || {
                        barrier.wait();
                        rune.cmd([
                            "create",
                            "--bundle",
                            b.path().to_str().unwrap(),
                            "--pid-file",
                            pf.to_str().unwrap(),
                            b.id.as_str(),
                        ])
                        .run()
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let winners: Vec<usize> = (0..2).filter(|i| outs[*i].success()).collect();
        assert_eq!(
            winners.len(),
            1,
            "exactly one create must succeed: {outs:?}"
        );
        let w = winners[0];
        outs[1 - w].assert_fail();
        let pid = read_pid_file(&pid_files[w]);
        let st = rune.state(&b.id);
        assert_eq!(st["status"], "created", "{st}");
        assert_eq!(st["pid"], pid, "state must belong to the winner");
        assert!(pid_alive(pid));
        // The loser's failure did not tear down the winner's container.
        rune.start(&b.id).assert_ok();
        assert_eq!(rune.status(&b.id), "running");
        rune.delete_force(&b.id).assert_ok();
        assert_no_leaks(&rune, &b, Some(pid));
    }
}

#[test]
fn concurrent_creates_of_different_ids_share_a_root() {
    let rune = Rune::new();
    let bundles: Vec<Bundle> = (0..8)
        .map(|_| {
            let mut b = Bundle::new("many");
            b.args(&["sleep", "100000"]);
            b
        })
        .collect();
    let barrier = Barrier::new(bundles.len());
    let outs: Vec<Output> = std::thread::scope(|s| {
        let hs: Vec<_> = bundles
            .iter()
            .map(|b| {
                let (barrier, rune) = (&barrier, &rune);
                s.spawn(move || {
                    barrier.wait();
                    rune.create(b)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for o in &outs {
        o.assert_ok();
    }
    let list = rune.cmd(["list", "--format", "json"]).run();
    list.assert_ok();
    let v = list.json();
    let arr = v.as_array().expect("array");
    assert_eq!(arr.len(), bundles.len(), "{list}");
    for b in &bundles {
        assert!(arr
            .iter()
            .any(|e| e["id"] == b.id.as_str() && e["status"] == "created"));
    }
    std::thread::scope(|s| {
        for b in &bundles {
            let rune = &rune;
            s.spawn(move || rune.delete_force(&b.id).assert_ok().clone());
        }
    });
    for b in &bundles {
        let pid = read_pid_file(&rune.pid_file(&b.id));
        assert_no_leaks(&rune, b, Some(pid));
    }
}
