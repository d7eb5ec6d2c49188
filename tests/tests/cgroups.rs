//! cgroups: the v1 controllers of the hybrid layout, or the one unified tree of a pure cgroup v2
//! host (each test asks `CgroupHost` which it runs on).

use rune_integration::*;
use std::path::Path;

fn read_trim(p: &Path) -> String {
    std::fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("read {p:?}: {e}"))
        .trim()
        .to_string()
}

fn procs(dir: &Path) -> Vec<i32> {
    read_trim(&dir.join("cgroup.procs"))
        .lines()
        .map(|l| l.parse().unwrap())
        .collect()
}

#[test]
fn resources_are_written_to_cgroup_files() {
    let rune = Rune::new();
    let mut b = Bundle::new("cgres");
    b.set(
        "/linux/resources/memory",
        json!({"limit": 64 * 1024 * 1024, "kernelTCP": 16 * 1024 * 1024}),
    )
    .set(
        "/linux/resources/cpu",
        json!({"quota": 50000, "period": 100000, "shares": 512}),
    )
    .set("/linux/resources/pids", json!({"limit": 42}))
    .args(&["sleep", "1000"]);
    let (_, pid) = rune.create_ok(&b);
    let path = b.cgroups_path_value().unwrap();

    let mem = cgroup_dir("memory", &path);
    let cpu = cgroup_dir("cpu", &path);
    if cgroup_v2() {
        // kernelTCP is v1's alone (v2 charges TCP buffers to memory.max): ignored, as runc.
        assert_eq!(read_trim(&mem.join("memory.max")), "67108864");
        assert_eq!(read_trim(&cpu.join("cpu.max")), "50000 100000");
        assert_eq!(
            read_trim(&cpu.join("cpu.weight")),
            cpu_weight_of_shares(512).to_string()
        );
    } else {
        assert_eq!(read_trim(&mem.join("memory.limit_in_bytes")), "67108864");
        assert_eq!(
            read_trim(&mem.join("memory.kmem.tcp.limit_in_bytes")),
            "16777216"
        );
        assert_eq!(read_trim(&cpu.join("cpu.cfs_quota_us")), "50000");
        assert_eq!(read_trim(&cpu.join("cpu.cfs_period_us")), "100000");
        assert_eq!(read_trim(&cpu.join("cpu.shares")), "512");
    }
    let pids = cgroup_dir("pids", &path);
    assert_eq!(read_trim(&pids.join("pids.max")), "42");

    for ctrl in ["memory", "cpu", "pids", "devices", "freezer"] {
        let dir = cgroup_dir(ctrl, &path);
        assert!(
            procs(&dir).contains(&pid),
            "init {pid} not in {dir:?}/cgroup.procs"
        );
    }
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn pids_limit_is_enforced() {
    // Six background sleeps need seven pids: with pids.max=3 a fork fails
    // (and busybox sh gives up), with pids.max=20 all of them start. The
    // sleeps die with pid 1 when the shell exits.
    let rune = Rune::new();
    let mut results = Vec::new();
    for limit in [3, 20] {
        let mut b = Bundle::new("cgpids");
        b.set("/linux/resources/pids", json!({"limit": limit}))
            .sh("for i in 1 2 3 4 5 6; do sleep 100 & done; echo all-forked");
        let out = rune.run(&b);
        results.push(out.stdout.contains("all-forked") && out.success());
        assert_no_leaks(&rune, &b, None);
    }
    assert_eq!(
        results,
        [false, true],
        "pids limit 3 / 20 -> all forks succeeded?"
    );
}

#[test]
fn absolute_cgroups_path_is_from_hierarchy_root() {
    let rune = Rune::new();
    let mut b = Bundle::new("cgabs");
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.create_ok(&b);
    let want = b.cgroups_path_value().unwrap();
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    for line in cg.lines() {
        let mut f = line.splitn(3, ':');
        let (_, ctrl, path) = (f.next(), f.next().unwrap(), f.next().unwrap());
        // On a pure v2 host the one line is the unified tree's (`0::`).
        let wanted = if cgroup_v2() {
            [""].as_slice()
        } else {
            ["memory", "cpu", "pids", "devices", "freezer", "blkio"].as_slice()
        };
        if wanted.contains(&ctrl) {
            assert_eq!(path, want, "{ctrl} cgroup of init: {cg}");
            assert!(cgroup_dir(ctrl, &want).is_dir());
        }
    }
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn relative_cgroups_path_is_below_runtime_cgroup() {
    let rune = Rune::new();
    let mut b = Bundle::new("cgrel");
    let rel = format!("rune-test/{}", b.id);
    b.cgroups_path(Some(&rel)).args(&["sleep", "1000"]);
    let (_, pid) = rune.create_ok(&b);
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let ctrls = CgroupHost::probe().pick(["memory", "pids", "cpu"].as_slice(), &[""]);
    for &ctrl in ctrls {
        let line = cg
            .lines()
            .find(|l| l.split(':').nth(1) == Some(ctrl))
            .unwrap_or_else(|| panic!("no {ctrl} in {cg}"));
        let path = line.splitn(3, ':').nth(2).unwrap();
        let own = relative_base(ctrl);
        let want = format!("{}/{rel}", own.trim_end_matches('/'));
        assert_eq!(path, want, "{ctrl}: {cg}");
        let dir = cgroup_dir(ctrl, &rel);
        assert!(procs(&dir).contains(&pid), "{dir:?}");
    }
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn cgroup_removed_after_run_exits() {
    let rune = Rune::new();
    let mut b = Bundle::new("cgrun");
    b.set(
        "/linux/resources/memory",
        json!({"limit": 32 * 1024 * 1024}),
    )
    .sh(CgroupHost::probe().pick(
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes",
        "cat /sys/fs/cgroup/memory.max",
    ));
    let out = rune.run(&b);
    out.assert_ok();
    // Inside, the container's own cgroup is mounted at /sys/fs/cgroup/<ctrl> (v1), or is
    // /sys/fs/cgroup (v2).
    assert_eq!(out.stdout.trim(), "33554432");
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn cgroup_removed_after_delete_of_stopped_container() {
    let rune = Rune::new();
    let mut b = Bundle::new("cgdel");
    b.args(&["true"]);
    let (_, pid) = rune.start_container(&b);
    assert!(rune.wait_status(&b.id, "stopped"));
    let path = b.cgroups_path_value().unwrap();
    assert!(
        cgroup_dir("pids", &path).exists(),
        "a stopped container keeps its cgroup until delete"
    );
    rune.delete(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn memory_limit_is_enforced() {
    // Writing 100 MB into a tmpfs is charged to the container's memory
    // cgroup: with a 16 MiB limit (swap included) the writer fails or is
    // OOM-killed, where without the limit it would succeed.
    let rune = Rune::new();
    let mut b = Bundle::new("cgoom");
    let limit = 16 * 1024 * 1024;
    let mem = if swap_accounting() {
        json!({"limit": limit, "swap": limit})
    } else {
        json!({ "limit": limit })
    };
    b.set("/linux/resources/memory", mem)
        .mount("/mnt/a", "tmpfs", "tmpfs", &["size=256m"])
        .sh("head -c 100000000 /dev/zero > /mnt/a/big; echo rc=$?");
    let out = rune.run(&b);
    // Either the writer failed or the OOM killer took the shell (137).
    assert!(
        !(out.success() && out.stdout.trim() == "rc=0"),
        "the 16 MiB memory limit was not enforced:\n{out}"
    );
    assert_no_leaks(&rune, &b, None);
}

/// On the hybrid layout the container is also placed in the cgroup2 tree, as runc does (and
/// so is a process `exec` adds); its /sys/fs/cgroup/unified is that cgroup, not the host's tree.
/// On a pure v2 host that tree is the only one, and the container's /sys/fs/cgroup is its cgroup.
#[test]
fn hybrid_host_joins_the_unified_tree_too() {
    let rune = Rune::new();
    let mut b = Bundle::new("cguni");
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.start_container(&b);
    let want = b.cgroups_path_value().unwrap();
    let dir = cgroup_dir("", &want);
    assert!(procs(&dir).contains(&pid), "{dir:?}");
    let out = rune.exec(
        &b.id,
        &[
            "sh",
            "-c",
            CgroupHost::probe().pick(
                "grep '^0::' /proc/self/cgroup; cat /sys/fs/cgroup/unified/cgroup.procs",
                "grep '^0::' /proc/self/cgroup; cat /sys/fs/cgroup/cgroup.procs",
            ),
        ],
    );
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], format!("0::{want}"), "{out}");
    // The container's processes only, by their numbers in its pid namespace: its init, then
    // the exec'd ones (the host's tree would list rune's own processes and the host's).
    assert_eq!(lines[1], "1", "{out}");
    assert!(
        lines[2..]
            .iter()
            .all(|p| p.parse::<i32>().is_ok_and(|p| p < 10)),
        "{out}"
    );
    rune.delete_force(&b.id).assert_ok();
    assert!(!dir.exists(), "{dir:?} left behind");
    assert_no_leaks(&rune, &b, Some(pid));
}

/// A cgroup directory the test freezes before the container is created (v1 `freezer.state`,
/// or `cgroup.freeze` in the cgroup2 tree); thawed and removed at the end whatever happened.
struct Frozen {
    dir: std::path::PathBuf,
    file: &'static str,
    thawed: &'static str,
}

impl Frozen {
    fn new(
        dir: std::path::PathBuf,
        file: &'static str,
        frozen: &str,
        thawed: &'static str,
    ) -> Frozen {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(file), frozen).unwrap();
        Frozen { dir, file, thawed }
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = std::fs::write(self.dir.join(self.file), self.thawed);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// runc refuses a cgroup that is frozen already ("container's cgroup unexpectedly frozen"):
/// the init would stop in it before its first word, and create wait for it forever. `run -d`
/// fails at once (well within the harness's timeout), and leaves no state, no process and no
/// cgroup of its own; the frozen directory is the test's and stays until it thaws it. (runc
/// 1.1.5 looks at the v1 freezer alone and hangs on the cgroup2 case of the hybrid layout.)
#[test]
fn a_frozen_cgroup_is_refused_at_create() {
    let v1 = ("freezer", "freezer.state", "FROZEN", "THAWED");
    let v2 = ("", "cgroup.freeze", "1", "0");
    // A pure v2 host has the cgroup2 freezer alone.
    let cases = CgroupHost::probe().pick(vec![v1, v2], vec![v2]);
    for (ctrl, file, frozen, thawed) in cases {
        let rune = Rune::new();
        let mut b = Bundle::new("cgfrozen");
        b.args(&["sleep", "1000"]);
        let path = b.cgroups_path_value().unwrap();
        let guard = Frozen::new(cgroup_dir(ctrl, &path), file, frozen, thawed);
        b.write();
        rune.track(&b.id);
        let out = rune
            .cmd([
                "run",
                "-d",
                "--bundle",
                b.path().to_str().unwrap(),
                b.id.as_str(),
            ])
            .run();
        assert!(
            !out.timed_out,
            "{ctrl:?}: run hung on the frozen cgroup:\n{out}"
        );
        out.assert_fail_mentioning(&["unexpectedly frozen"]);
        assert!(!rune.root().join(&b.id).exists(), "state left behind");
        let left: Vec<_> = cgroup_dirs_for(&path)
            .into_iter()
            .filter(|d| d.exists() && *d != guard.dir)
            .collect();
        assert!(left.is_empty(), "{ctrl:?}: cgroups made: {left:?}");
        assert!(
            procs(&guard.dir).is_empty(),
            "processes in the frozen cgroup"
        );
        drop(guard);
        assert_no_leaks(&rune, &b, None);
    }
}

/// A cgroup that already holds a process: create goes on with runc's warning. (runc looks in
/// the devices hierarchy alone; rune in each.)
#[test]
fn a_cgroup_with_processes_in_it_is_a_warning() {
    let rune = Rune::new();
    let mut b = Bundle::new("cgbusy");
    b.args(&["sleep", "1000"]);
    let pids = cgroup_dir("devices", &b.cgroups_path_value().unwrap());
    std::fs::create_dir_all(&pids).unwrap();
    let mut other = std::process::Command::new("sleep")
        .arg("1000")
        .spawn()
        .unwrap();
    std::fs::write(pids.join("cgroup.procs"), other.id().to_string()).unwrap();
    let (out, pid) = rune.create_ok(&b);
    assert!(
        out.stderr.contains("level=warning")
            && out
                .stderr
                .contains("container's cgroup is not empty: 1 process(es) found"),
        "{out}"
    );
    assert!(procs(&pids).contains(&pid), "{pids:?}");
    // delete --force ends every process of the cgroup, the one found there too (as runc).
    rune.delete_force(&b.id).assert_ok();
    let _ = other.kill();
    let _ = other.wait();
    assert_no_leaks(&rune, &b, Some(pid));
}
