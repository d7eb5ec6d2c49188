//! `linux.resources` at create: the cgroup files and, where it can be seen
//! cheaply, the effect on the container's processes. The files are v1's on a v1 or hybrid host,
//! the unified tree's on a pure cgroup v2 host.

use rune_integration::*;
use std::path::Path;

const MIB: i64 = 1024 * 1024;

/// A process that really holds ~100 MB: dd's one 100 MB buffer, filled by the kernel (fast
/// even in an emulated guest, where a shell building the string byte by byte takes minutes).
/// The shell exits with dd's status (137 when the OOM killer takes it).
const HOG: &str = "dd if=/dev/zero of=/dev/null bs=100M count=1 2>/dev/null || exit $?";

fn read_trim(p: &Path) -> String {
    std::fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("read {p:?}: {e}"))
        .trim()
        .to_string()
}

/// `key value` lines of a cgroup file such as `memory.oom_control`.
fn keyed(p: &Path, key: &str) -> i64 {
    let text = read_trim(p);
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {p:?}: {text}"))
}

fn procs(dir: &Path) -> Vec<i32> {
    read_trim(&dir.join("cgroup.procs"))
        .lines()
        .filter_map(|l| l.parse().ok())
        .collect()
}

/// A memory limit with no swap beyond it (where the kernel accounts swap).
fn memory_limited(prefix: &str, limit: i64) -> Bundle {
    let mut b = Bundle::new(prefix);
    let mem = if swap_accounting() {
        json!({"limit": limit, "swap": limit})
    } else {
        json!({ "limit": limit })
    };
    b.set("/linux/resources/memory", mem);
    b
}

#[test]
fn memory_limit_oom_kills_the_allocating_process() {
    // The hog runs in a subshell: the OOM killer takes it (SIGKILL, 137)
    // while init survives to report the status.
    let rune = Rune::new();
    let mut b = memory_limited("resoom", 32 * MIB);
    b.sh(&format!("({HOG}; echo survived); echo rc=$?"));
    let (out, pid) = rune.start_container(&b);
    assert!(rune.wait_status(&b.id, "stopped"), "container did not stop");
    let stdout = out.stdout_now();
    assert!(
        stdout.contains("rc=137") && !stdout.contains("survived"),
        "the 32 MiB limit did not OOM-kill the hog: {stdout:?} / {:?}",
        out.stderr_now()
    );
    let mem = cgroup_dir("memory", &b.cgroups_path_value().unwrap());
    let host = CgroupHost::probe();
    assert!(
        mem.starts_with(host.pick(
            "/sys/fs/cgroup/memory/rune-test",
            "/sys/fs/cgroup/rune-test"
        )),
        "absolute cgroupsPath is taken from the hierarchy root: {mem:?}"
    );
    let (limit, swap) = host.pick(
        ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes"),
        ("memory.max", "memory.swap.max"),
    );
    assert_eq!(read_trim(&mem.join(limit)), "33554432");
    // v2's swap.max is the swap alone: memory+swap minus the limit. Without swap accounting
    // (no such file) the equal limits ask for no swap limit, and rune writes none.
    if mem.join(swap).exists() {
        assert_eq!(read_trim(&mem.join(swap)), host.pick("33554432", "0"));
    }
    let events = host.pick("memory.oom_control", "memory.events");
    let kills = keyed(&mem.join(events), "oom_kill ");
    assert!(kills > 0, "{events} oom_kill = {kills}");
    rune.delete(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

/// The container's cgroup exists already with a memory and a memory+swap limit: a config
/// limit of -1 lifts both (memsw first, or the kernel refuses the memory limit above it).
#[test]
fn memory_limit_minus_one_on_an_existing_limited_cgroup() {
    let rune = Rune::new();
    let mut b = Bundle::new("resmemunl");
    b.set("/linux/resources/memory", json!({"limit": -1}))
        .args(&["sleep", "100000"]);
    let mem = make_cgroup_dir("memory", &b.cgroups_path_value().unwrap());
    let (limit, swap) = CgroupHost::probe().pick(
        ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes"),
        ("memory.max", "memory.swap.max"),
    );
    // Without swap accounting (no memsw / swap.max) the memory limit alone.
    let files: Vec<&str> = [limit, swap]
        .into_iter()
        .filter(|f| mem.join(f).exists())
        .collect();
    assert!(files.contains(&limit), "no {limit} in {mem:?}");
    std::fs::write(mem.join(limit), (64 * MIB).to_string()).unwrap();
    if files.contains(&swap) {
        // v1: memory+swap 128 MiB; v2: 64 MiB of swap beside the 64 MiB.
        let v = if cgroup_v2() { 64 * MIB } else { 128 * MIB };
        std::fs::write(mem.join(swap), v.to_string()).unwrap();
    }
    let (_, pid) = rune.create_ok(&b);
    for f in files {
        let v = read_trim(&mem.join(f));
        assert!(
            v == "max" || v.parse::<u64>().unwrap() > 1 << 60,
            "{f} = {v}, not unlimited"
        );
    }
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn memory_limit_oom_kills_init_exit_137() {
    let rune = Rune::new();
    let mut b = memory_limited("resoominit", 32 * MIB);
    b.sh(&format!("{HOG}; echo survived"));
    let out = rune.run(&b);
    assert_eq!(out.exit_code(), 137, "{out}");
    assert!(!out.stdout.contains("survived"), "{out}");
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn memory_reservation_and_swappiness() {
    let rune = Rune::new();
    let mut b = Bundle::new("resmemsoft");
    b.set(
        "/linux/resources/memory",
        json!({"limit": 64 * MIB, "reservation": 32 * MIB, "swappiness": 10}),
    )
    .args(&["sleep", "100000"]);
    let (_, pid) = rune.start_container(&b);
    let mem = cgroup_dir("memory", &b.cgroups_path_value().unwrap());
    let out = if cgroup_v2() {
        // The reservation is memory.low; v2 has no per-cgroup swappiness (ignored, as runc).
        assert_eq!(read_trim(&mem.join("memory.max")), "67108864");
        assert_eq!(read_trim(&mem.join("memory.low")), "33554432");
        assert!(!mem.join("memory.swappiness").exists());
        assert!(procs(&mem).contains(&pid));
        rune.exec(&b.id, &["cat", "/sys/fs/cgroup/memory.low"])
    } else {
        assert_eq!(read_trim(&mem.join("memory.limit_in_bytes")), "67108864");
        assert_eq!(
            read_trim(&mem.join("memory.soft_limit_in_bytes")),
            "33554432"
        );
        assert_eq!(read_trim(&mem.join("memory.swappiness")), "10");
        assert!(procs(&mem).contains(&pid));
        rune.exec(
            &b.id,
            &[
                "cat",
                "/sys/fs/cgroup/memory/memory.soft_limit_in_bytes",
                "/sys/fs/cgroup/memory/memory.swappiness",
            ],
        )
    };
    // The container sees its own cgroup with the same values.
    out.assert_ok();
    assert_eq!(
        out.stdout,
        CgroupHost::probe().pick("33554432\n10\n", "33554432\n")
    );
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn cpu_shares_quota_period_and_cpuset() {
    let rune = Rune::new();
    let mut b = Bundle::new("rescpu");
    b.set(
        "/linux/resources/cpu",
        json!({"shares": 512, "quota": 20000, "period": 50000, "cpus": "0", "mems": "0"}),
    )
    .sh("nproc; grep Cpus_allowed_list /proc/self/status; exec sleep 100000");
    let (out, pid) = rune.start_container(&b);
    let path = b.cgroups_path_value().unwrap();
    let cpu = cgroup_dir("cpu", &path);
    if cgroup_v2() {
        assert_eq!(
            read_trim(&cpu.join("cpu.weight")),
            cpu_weight_of_shares(512).to_string()
        );
        assert_eq!(read_trim(&cpu.join("cpu.max")), "20000 50000");
    } else {
        assert_eq!(read_trim(&cpu.join("cpu.shares")), "512");
        assert_eq!(read_trim(&cpu.join("cpu.cfs_quota_us")), "20000");
        assert_eq!(read_trim(&cpu.join("cpu.cfs_period_us")), "50000");
    }
    let cpuset = cgroup_dir("cpuset", &path);
    assert_eq!(read_trim(&cpuset.join("cpuset.cpus")), "0");
    assert_eq!(read_trim(&cpuset.join("cpuset.mems")), "0");
    assert!(procs(&cpuset).contains(&pid), "init not in {cpuset:?}");
    // Effect: the container's processes may only run on CPU 0.
    assert!(
        wait_until(POLL_TIMEOUT, || out.stdout_now().lines().count() >= 2),
        "no output: {:?}",
        out.stderr_now()
    );
    let stdout = out.stdout_now();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "1", "nproc: {stdout:?}");
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["Cpus_allowed_list:", "0"]
    );
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert_eq!(
        proc_status_field(&status, "Cpus_allowed_list").as_deref(),
        Some("0")
    );
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn pids_limit_stops_a_fork_loop() {
    // A subshell tries to start 100 background sleeps under pids.max=20; the
    // forks past the limit fail. Then init execs (no fork needed) and stays.
    let rune = Rune::new();
    let mut b = Bundle::new("respids");
    b.set("/linux/resources/pids", json!({"limit": 20})).sh(
        "(i=0; while [ $i -lt 100 ]; do sleep 1000 & i=$((i+1)); done; echo loop-done); \
             echo subshell-exited; exec sleep 100000",
    );
    let (out, pid) = rune.start_container(&b);
    assert!(
        wait_until(POLL_TIMEOUT, || out
            .stdout_now()
            .contains("subshell-exited")),
        "fork loop did not finish: {:?} / {:?}",
        out.stdout_now(),
        out.stderr_now()
    );
    let dir = cgroup_dir("pids", &b.cgroups_path_value().unwrap());
    assert_eq!(read_trim(&dir.join("pids.max")), "20");
    let current: i64 = read_trim(&dir.join("pids.current")).parse().unwrap();
    let n = procs(&dir).len();
    assert!(
        current <= 20 && (10..=20).contains(&n),
        "pids.current={current}, {n} processes in the cgroup"
    );
    assert!(
        keyed(&dir.join("pids.events"), "max ") > 0,
        "pids.events records no refused fork"
    );
    let err = out.stderr_now();
    assert!(err.contains("fork"), "no fork error reported: {err:?}");
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

/// What this kernel offers for block I/O weights on cgroup v1, read from the blkio hierarchy's
/// root: CFQ's `blkio.weight`, BFQ's `blkio.bfq.weight` (with a loop device that can switch to
/// BFQ for a per-device weight), or neither (no CFQ, BFQ not built). On cgroup v2, read from a
/// new cgroup: BFQ's `io.bfq.weight` (with a loop device switched to BFQ where there is one),
/// else `io.weight` alone.
enum BlkioWeights {
    Cfq,
    Bfq(BfqLoop),
    None,
    V2Bfq(Option<BfqLoop>),
    V2Io,
}

impl BlkioWeights {
    fn probe() -> BlkioWeights {
        if cgroup_v2() {
            // Switching a loop device to BFQ loads the scheduler, and with it io.bfq.weight.
            let lo = BfqLoop::try_new();
            return if cgroup_has_file("io", "io.bfq.weight") {
                BlkioWeights::V2Bfq(lo)
            } else {
                BlkioWeights::V2Io
            };
        }
        let root = cgroup_dir("blkio", "/");
        if root.join("blkio.weight").exists() {
            BlkioWeights::Cfq
        } else if root.join("blkio.bfq.weight").exists() {
            BlkioWeights::Bfq(BfqLoop::new())
        } else {
            BlkioWeights::None
        }
    }
}

/// `major:minor` of the first block device this host has (/sys/block).
fn first_block_device() -> String {
    let mut devs: Vec<_> = std::fs::read_dir("/sys/block")
        .unwrap()
        .flatten()
        .map(|e| e.path().join("dev"))
        .collect();
    devs.sort();
    read_trim(devs.first().expect("no block device in /sys/block"))
}

/// A loop device switched to the BFQ scheduler for the test (the one scheduler with per-device
/// weights on blk-mq kernels), switched back at the end.
struct BfqLoop {
    sched: std::path::PathBuf,
    old: String,
    dev: String,
}

impl BfqLoop {
    /// Only where the kernel has BFQ: every loop device then lists it.
    fn new() -> BfqLoop {
        BfqLoop::try_new().expect("no loop block device that switches to bfq")
    }

    /// The last loop device, switched to BFQ; None without loop devices or BFQ.
    fn try_new() -> Option<BfqLoop> {
        let mut loops: Vec<_> = std::fs::read_dir("/sys/block")
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("loop"))
            .collect();
        loops.sort();
        let dir = loops.pop()?;
        let sched = dir.join("queue/scheduler");
        let text = std::fs::read_to_string(&sched).ok()?;
        let old = text
            .split_whitespace()
            .find_map(|s| s.strip_prefix('[')?.strip_suffix(']'))
            .unwrap_or("none")
            .to_string();
        std::fs::write(&sched, "bfq").ok()?;
        let dev = read_trim(&dir.join("dev"));
        Some(BfqLoop { sched, old, dev })
    }
}

impl Drop for BfqLoop {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.sched, &self.old);
    }
}

/// Block I/O weights go where the kernel has them, as runc writes them: CFQ's blkio.weight, or
/// BFQ's blkio.bfq.weight and blkio.bfq.weight_device. A kernel with neither gets a clear
/// error that names the missing files, and the failed create leaves nothing behind.
/// On cgroup v2: BFQ's io.bfq.weight (the weight as it is, and per device), else io.weight
/// (converted as runc converts: 1 + (w - 10) * 9999 / 990); a per-device weight without BFQ is
/// rune's clear error (runc drops it silently).
#[test]
fn blkio_weights_go_to_the_files_the_kernel_has() {
    let kernel = BlkioWeights::probe();
    if cgroup_v2() {
        return io_weights_v2(kernel);
    }
    let dev = match &kernel {
        BlkioWeights::Bfq(lo) => lo.dev.clone(),
        // CFQ takes a weight only for a block device that exists: this host's first one.
        _ => first_block_device(),
    };
    let (major, minor) = dev.split_once(':').unwrap();
    let rune = Rune::new();
    let mut b = Bundle::new("resbfq");
    b.set(
        "/linux/resources/blockIO",
        json!({"weight": 300, "weightDevice": [
            {"major": major.parse::<i64>().unwrap(), "minor": minor.parse::<i64>().unwrap(),
             "weight": 700}
        ]}),
    )
    .args(&["sleep", "100000"]);
    let blkio = cgroup_dir("blkio", &b.cgroups_path_value().unwrap());
    let pid = match kernel {
        BlkioWeights::None => {
            let out = rune.create(&b);
            out.assert_fail_mentioning(&["has neither blkio.weight nor blkio.bfq.weight"]);
            None
        }
        BlkioWeights::Cfq => {
            let (_, pid) = rune.create_ok(&b);
            assert_eq!(read_trim(&blkio.join("blkio.weight")), "300");
            let devices = read_trim(&blkio.join("blkio.weight_device"));
            let want = format!("{dev} 700");
            assert!(devices.lines().any(|l| l == want), "{devices:?}");
            Some(pid)
        }
        BlkioWeights::Bfq(_) => {
            let (_, pid) = rune.create_ok(&b);
            assert_eq!(read_trim(&blkio.join("blkio.bfq.weight")), "300");
            let devices = read_trim(&blkio.join("blkio.bfq.weight_device"));
            assert!(
                devices.lines().any(|l| l == format!("{dev} 700")),
                "{dev} 700 not in blkio.bfq.weight_device: {devices:?}"
            );
            Some(pid)
        }
        BlkioWeights::V2Bfq(_) | BlkioWeights::V2Io => unreachable!("a v1 host"),
    };
    if pid.is_some() {
        rune.delete_force(&b.id).assert_ok();
    }
    assert_no_leaks(&rune, &b, pid);
}

/// The v2 half of `blkio_weights_go_to_the_files_the_kernel_has`.
fn io_weights_v2(kernel: BlkioWeights) {
    let rune = Rune::new();
    let bundle = |dev: Option<&str>| {
        let mut b = Bundle::new("resiow");
        let mut io = json!({"weight": 300});
        if let Some((major, minor)) = dev.and_then(|d| d.split_once(':')) {
            io["weightDevice"] = json!([{"major": major.parse::<i64>().unwrap(),
                "minor": minor.parse::<i64>().unwrap(), "weight": 700}]);
        }
        b.set("/linux/resources/blockIO", io)
            .args(&["sleep", "100000"]);
        b
    };
    let (b, file, want) = match &kernel {
        BlkioWeights::V2Bfq(lo) => {
            let dev = lo.as_ref().map(|l| l.dev.as_str());
            let mut want = vec!["default 300".to_string()];
            want.extend(dev.map(|d| format!("{d} 700")));
            (bundle(dev), "io.bfq.weight", want)
        }
        BlkioWeights::V2Io => {
            let b = bundle(Some("7:0"));
            rune.create(&b)
                .assert_fail_mentioning(&["io.bfq.weight", "does not exist on this host"]);
            assert_no_leaks(&rune, &b, None);
            let w = 1 + (300 - 10) * 9999 / 990;
            (bundle(None), "io.weight", vec![format!("default {w}")])
        }
        _ => unreachable!("a v2 host"),
    };
    let (_, pid) = rune.create_ok(&b);
    let io = cgroup_dir("io", &b.cgroups_path_value().unwrap());
    let text = read_trim(&io.join(file));
    for w in &want {
        assert!(
            text.lines().any(|l| l == w),
            "{w:?} not in {file}: {text:?}"
        );
    }
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

/// A container with CAP_MKNOD and a tmpfs at /mnt/a that allows device nodes.
fn device_bundle(prefix: &str, rules: Value, script: &str) -> Bundle {
    let mut b = Bundle::new(prefix);
    let caps = json!([
        "CAP_AUDIT_WRITE",
        "CAP_KILL",
        "CAP_NET_BIND_SERVICE",
        "CAP_MKNOD"
    ]);
    for set in ["bounding", "effective", "permitted"] {
        b.set(&format!("/process/capabilities/{set}"), caps.clone());
    }
    b.mount("/mnt/a", "tmpfs", "tmpfs", &["mode=755"]);
    for rule in rules.as_array().unwrap() {
        b.array_push("/linux/resources/devices", rule.clone());
    }
    b.sh(script);
    b
}

#[test]
fn device_rules_apply_in_order() {
    // /dev/kmsg (c 1:11) is not among the default devices; opening it
    // write-only needs no privilege, so the device cgroup decides. The spec's
    // "deny all" comes first; the later of two rules for 1:11 wins.
    let rune = Rune::new();
    let script = "mknod /mnt/a/kmsg c 1 11 || exit 9; true > /mnt/a/kmsg && echo write-ok";
    let rule =
        |allow: bool| json!({"allow": allow, "type": "c", "major": 1, "minor": 11, "access": "w"});
    for (first, last, want) in [(false, true, "write-ok\n"), (true, false, "")] {
        let b = device_bundle("resdevorder", json!([rule(first), rule(last)]), script);
        let out = rune.run(&b);
        assert_ne!(out.exit_code(), 9, "mknod failed: {out}");
        assert_eq!(
            out.stdout, want,
            "rules allow={first} then allow={last}: {out}"
        );
        if want.is_empty() {
            assert!(out.stderr.contains("Operation not permitted"), "{out}");
        }
        assert_no_leaks(&rune, &b, None);
    }
}

/// The access of a device rule may name r, w and m in any order, and a type-`a` rule covers
/// every device. Major 240 has no driver: an open the device cgroup lets through fails with
/// ENXIO ("No such device or address"), one it refuses with EPERM.
#[test]
fn device_access_letters_in_any_order() {
    let rune = Rune::new();
    let rule = |minor: i64, access: &str| json!({"allow": true, "type": "c", "major": 240, "minor": minor, "access": access});
    let rules = json!([
        {"allow": false, "type": "a", "access": "wmr"},
        rule(0, "mr"),
        rule(1, "wm"),
        rule(2, "mwr"),
        rule(3, "rrm"),
    ]);
    let script = "for n in 0 1 2 3 4; do mknod /mnt/a/t$n c 240 $n || exit 9; \
                  r=$( (cat /mnt/a/t$n) 2>&1 ); w=$( (echo x > /mnt/a/t$n) 2>&1 ); \
                  echo \"$n ${r##*: } / ${w##*: }\"; done";
    let b = device_bundle("resdevacc", rules, script);
    let out = rune.run(&b);
    out.assert_ok();
    let (ok, no) = ("No such device or address", "Operation not permitted");
    let want: Vec<String> = [(ok, no), (no, ok), (ok, ok), (ok, no), (no, no)]
        .iter()
        .enumerate()
        .map(|(n, (r, w))| format!("{n} {r} / {w}"))
        .collect();
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), want, "{out}");
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn device_rules_deny_dev_null_is_overridden_by_default_allows() {
    // Like runc (libcontainer/specconv appends the default devices after the
    // config's rules), a config rule denying c 1:3 cannot take /dev/null
    // away: the default allow for /dev/null comes later and wins.
    let rune = Rune::new();
    let b = device_bundle(
        "resdevnull",
        json!([{"allow": false, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]),
        "echo x > /dev/null && echo write-ok; cat /dev/null && echo read-ok",
    );
    let out = rune.run(&b);
    out.assert_ok();
    assert_eq!(out.stdout, "write-ok\nread-ok\n", "{out}");
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn relative_cgroups_path_gets_the_limits() {
    let rune = Rune::new();
    let mut b = Bundle::new("resrel");
    let rel = format!("rune-test/{}", b.id);
    b.cgroups_path(Some(&rel))
        .set("/linux/resources/pids", json!({"limit": 17}))
        .set("/linux/resources/memory", json!({"limit": 48 * MIB}))
        .args(&["sleep", "100000"]);
    let (_, pid) = rune.start_container(&b);
    let pids = cgroup_dir("pids", &rel);
    let mem = cgroup_dir("memory", &rel);
    assert_eq!(read_trim(&pids.join("pids.max")), "17");
    assert!(procs(&pids).contains(&pid) && procs(&mem).contains(&pid));
    // Below this process's own memory cgroup (on v2 its parent), which is not the root here.
    let own = relative_base("memory");
    let limit = CgroupHost::probe().pick("memory.limit_in_bytes", "memory.max");
    assert_eq!(read_trim(&mem.join(limit)), "50331648");
    assert!(
        mem.to_string_lossy()
            .ends_with(&format!("{}/{rel}", own.trim_end_matches('/'))),
        "{mem:?} not below the memory cgroup {own}"
    );
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

/// The huge page sizes this kernel has, as the hugetlb files name them (`2MB`, `1GB`).
fn huge_page_sizes() -> Vec<String> {
    let mut sizes: Vec<String> = std::fs::read_dir("/sys/kernel/mm/hugepages")
        .map(|rd| rd.flatten().collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let kb: u64 = name
                .strip_prefix("hugepages-")?
                .strip_suffix("kB")?
                .parse()
                .ok()?;
            Some(match kb {
                kb if kb >= 1 << 20 => format!("{}GB", kb >> 20),
                kb if kb >= 1 << 10 => format!("{}MB", kb >> 10),
                kb => format!("{kb}KB"),
            })
        })
        .collect();
    sizes.sort();
    sizes
}

/// `hugepageLimits` go to the hugetlb files of each page size the kernel has: v1's
/// hugetlb.<size>.limit_in_bytes, v2's hugetlb.<size>.max. Where the hugetlb controller is not
/// the container's (the hybrid layout has it in the cgroup2 tree alone, or the kernel lacks
/// it) the limits are a clear error naming it; a page size the kernel lacks, one naming the file.
#[test]
fn hugepage_limits_go_to_the_page_sizes_the_kernel_has() {
    let sizes = huge_page_sizes();
    let v1 = cgroup_mounts()
        .iter()
        .any(|m| m.controllers.split(',').any(|c| c == "hugetlb"));
    let v2 = cgroup_v2()
        && std::fs::read_to_string(cgroup_dir("", "/").join("cgroup.controllers"))
            .unwrap_or_default()
            .split_whitespace()
            .any(|c| c == "hugetlb");
    let limit: i64 = 1 << 30; // a whole number of pages of every size
    let rune = Rune::new();
    let hugetlb = |prefix: &str, sizes: &[String]| {
        let mut b = Bundle::new(prefix);
        let limits: Vec<Value> = sizes
            .iter()
            .map(|s| json!({"pageSize": s, "limit": limit}))
            .collect();
        b.set("/linux/resources/hugepageLimits", json!(limits))
            .args(&["sleep", "100000"]);
        b
    };
    if sizes.is_empty() || !(v1 || v2) {
        let b = hugetlb("reshuge", &["2MB".to_string()]);
        rune.create(&b).assert_fail_mentioning(&["hugetlb"]);
        return assert_no_leaks(&rune, &b, None);
    }
    let b = hugetlb("reshuge", &sizes);
    let (_, pid) = rune.create_ok(&b);
    let dir = cgroup_dir("hugetlb", &b.cgroups_path_value().unwrap());
    for s in &sizes {
        let file = if v1 {
            format!("hugetlb.{s}.limit_in_bytes")
        } else {
            format!("hugetlb.{s}.max")
        };
        assert_eq!(read_trim(&dir.join(&file)), limit.to_string(), "{file}");
    }
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
    let b = hugetlb("reshugebad", &["3MB".to_string()]);
    rune.create(&b)
        .assert_fail_mentioning(&["hugetlb.3MB", "does not exist on this host"]);
    assert_no_leaks(&rune, &b, None);
}
