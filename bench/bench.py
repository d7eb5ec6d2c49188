#!/usr/bin/env python3
"""bench.py WORK OUT RUNTIME=BIN...: rune beside crun and runc, measured pair by pair.

Every timed figure is taken round-robin (A B C, B C A, C A B, ...), so that a noisy neighbour,
a frequency change or the previous container's teardown hits each runtime alike; the report gives medians and ratios, never absolute
claims. WORK holds the bundles (made by run.sh): plain/ (/bin/true), sleep/ (sleep 1000),
enclave/ and enclave-sleep/ (the skeleton, for rune), wasm/, wasm-wait/ (a WebAssembly module on
rune's engine) and wasm-enclave/ (the same in an enclave of that engine), for rune. OUT receives
results.md, results.json and results.png (gnuplot).
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

ROUNDS = int(os.environ.get("ROUNDS", "40"))
BATCHES = [int(n) for n in os.environ.get("BATCHES", "100,1000").split(",")]
PARALLEL = 10
DEVNULL = os.open(os.devnull, os.O_RDWR)


def spawn(argv):
    """Runs argv with stdio on /dev/null; returns its exit status (posix_spawn: little overhead)."""
    pid = os.posix_spawn(argv[0], argv, os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, DEVNULL, 0),
                                       (os.POSIX_SPAWN_DUP2, DEVNULL, 1),
                                       (os.POSIX_SPAWN_DUP2, DEVNULL, 2)])
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def timed(steps):
    """Seconds taken by a list of argvs run one after the other; each must succeed."""
    t0 = time.perf_counter()
    for argv in steps:
        code = spawn(argv)
        if code != 0:
            raise SystemExit(f"bench: {' '.join(argv)} exited {code}")
    return time.perf_counter() - t0


class Runtime:
    def __init__(self, name, binary, work):
        self.name, self.bin = name, binary
        self.root = os.path.join(work, f"root-{name}")
        self.seq = 0

    def cmd(self, *args):
        return [self.bin, "--root", self.root, *args]

    def fresh(self, tag):
        self.seq += 1
        return f"{tag}-{self.name}-{self.seq}"

    def left(self):
        out = subprocess.run(self.cmd("list", "-q"), capture_output=True, text=True)
        return [line for line in out.stdout.split() if line]


def round_robin(runtimes, steps_of):
    """Per runtime, the median seconds of steps_of(runtime) over ROUNDS interleaved rounds.
    The order turns every round: a container's teardown goes on in the kernel after its
    runtime exits (a network namespace is freed later), and weighs on whoever runs next."""
    samples = {r.name: [] for r in runtimes}
    for k in range(ROUNDS):
        turn = runtimes[k % len(runtimes):] + runtimes[:k % len(runtimes)]
        for r in turn:
            samples[r.name].append(timed(steps_of(r)))
    return {n: statistics.median(v) for n, v in samples.items()}


def paired(runtimes, steps_of):
    """rune against each other runtime in its own pairing (rune X rune X ..., turning): the
    teardown a third runtime leaves in the kernel weighs on its neighbours unevenly, so a ratio
    is only fair between two. Returns each runtime's median (rune's from its first pairing) and,
    per other runtime, rune's median over its median in their pairing."""
    rune, others = runtimes[0], runtimes[1:]
    medians, ratios = {}, {}
    for other in others:
        m = round_robin([rune, other], steps_of)
        medians.setdefault(rune.name, m[rune.name])
        medians[other.name] = m[other.name]
        ratios[other.name] = m[rune.name] / m[other.name]
    if not others:
        medians = round_robin([rune], steps_of)
    return medians, ratios


def run_steps(bundle):
    def steps(r):
        return [r.cmd("run", "--bundle", bundle, r.fresh("run"))]
    return steps


def csd_steps(bundle):
    def steps(r):
        cid = r.fresh("csd")
        return [r.cmd("create", "--bundle", bundle, cid), r.cmd("start", cid),
                r.cmd("delete", "-f", cid)]
    return steps


def exec_latency(runtimes, sleep_bundle):
    for r in runtimes:
        timed([r.cmd("run", "-d", "--bundle", sleep_bundle, f"exec-{r.name}")])
    try:
        return paired(runtimes, lambda r: [r.cmd("exec", f"exec-{r.name}", "true")])
    finally:
        for r in runtimes:
            spawn(r.cmd("delete", "-f", f"exec-{r.name}"))


def peak_rss_kib(runtimes, bundle):
    """GNU time's %M (the runtime process's peak RSS) of one `run`, median of 5."""
    out = {}
    for r in runtimes:
        vals = []
        for _ in range(5):
            res = subprocess.run(["/usr/bin/time", "-f", "%M", *r.cmd("run", "--bundle", bundle,
                                                                   r.fresh("rss"))],
                                 capture_output=True, text=True)
            vals.append(int(res.stderr.strip().split()[-1]))
        out[r.name] = statistics.median(vals)
    return out


def idle_rss_kib(rune, bundle, cid):
    """VmRSS of an idle container's pid 1 (the enclave keeper, or the plain payload)."""
    timed([rune.cmd("run", "-d", "--bundle", bundle, cid)])
    try:
        time.sleep(0.3)
        state = json.loads(subprocess.run(rune.cmd("state", cid), capture_output=True,
                                          text=True).stdout)
        with open(f"/proc/{state['pid']}/status") as f:
            rss = [line for line in f if line.startswith("VmRSS:")][0]
        return int(rss.split()[1])
    finally:
        spawn(rune.cmd("delete", "-f", cid))


def batch(r, bundle, n):
    """n containers created, started and deleted, PARALLEL at a time: total seconds."""
    ids = [r.fresh(f"batch{n}") for _ in range(n)]

    def one(cid):
        return timed([r.cmd("create", "--bundle", bundle, cid), r.cmd("start", cid),
                      r.cmd("delete", "-f", cid)])
    t0 = time.perf_counter()
    with ThreadPoolExecutor(PARALLEL) as pool:
        list(pool.map(one, ids))
    total = time.perf_counter() - t0
    left = r.left()
    if left:
        raise SystemExit(f"bench: {r.name} left {len(left)} containers after the batch of {n}")
    return total


def leftover_cgroups():
    """Cgroup directories rune's containers left (their ids name them). crun, in the view with
    cgroup2 hidden, makes directories under the bare /sys/fs/cgroup/unified: those are removed."""
    found = []
    for top in ("/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified"):
        for dirpath, dirs, _ in os.walk(top, topdown=False):
            for d in dirs:
                if "-rune-" in d or d.endswith("-rune"):
                    found.append(os.path.join(dirpath, d))
                elif "-crun" in d and dirpath == "/sys/fs/cgroup/unified" \
                        and os.environ.get("BENCH_CGROUP2_HIDDEN"):
                    # A plain directory of the tmpfs under the hidden cgroup2 mount.
                    shutil.rmtree(os.path.join(dirpath, d), ignore_errors=True)
    return found


def main():
    work, out_dir = sys.argv[1], sys.argv[2]
    runtimes = [Runtime(*spec.split("=", 1), work) for spec in sys.argv[3:]]
    names = [r.name for r in runtimes]
    rune = next(r for r in runtimes if r.name == "rune")
    b = {k: os.path.join(work, k) for k in ("plain", "sleep", "enclave", "enclave-sleep", "wasm",
                                            "wasm-wait", "wasm-enclave")}
    res = {"runtimes": names, "rounds": ROUNDS}
    print(f"bench: {', '.join(names)}; {ROUNDS} interleaved rounds each", flush=True)
    res["run"], res["run_ratio"] = paired(runtimes, run_steps(b["plain"]))
    print("  run /bin/true: done", flush=True)
    res["csd"], res["csd_ratio"] = paired(runtimes, csd_steps(b["plain"]))
    print("  create+start+delete: done", flush=True)
    res["exec"], res["exec_ratio"] = exec_latency(runtimes, b["sleep"])
    print("  exec true: done", flush=True)
    res["peak_rss"] = peak_rss_kib(runtimes, b["plain"])
    res["idle_rss"] = {"enclave keeper (skeleton)": idle_rss_kib(rune, b["enclave-sleep"], "idle-enc"),
                       "plain init": idle_rss_kib(rune, b["sleep"], "idle-plain"),
                       "wasm init": idle_rss_kib(rune, b["wasm-wait"], "idle-wasm")}
    pair = round_robin([rune, Runtime("rune-enclave", rune.bin, work)],
                       lambda r: [r.cmd("run", "--bundle",
                                        b["enclave"] if r.name == "rune-enclave" else b["plain"],
                                        r.fresh("run"))])
    res["enclave_run"] = {"plain": pair["rune"], "enclave": pair["rune-enclave"]}
    print("  enclave run: done", flush=True)
    kinds = {"native": b["plain"], "wasm": b["wasm"], "wasm-enclave": b["wasm-enclave"]}
    res["wasm_run"] = round_robin([Runtime(k, rune.bin, work) for k in kinds],
                                  lambda r: [r.cmd("run", "--bundle", kinds[r.name],
                                                   r.fresh("run"))])
    print("  wasm run: done", flush=True)
    res["batches"] = {}
    for n in BATCHES:
        res["batches"][str(n)] = {r.name: batch(r, b["plain"], n) for r in runtimes}
        print(f"  batch of {n}: done", flush=True)
    res["leftovers"] = leftover_cgroups() + [c for c in rune.left()]
    report(res, out_dir)


def ratio(a, b):
    return a / b if b else float("nan")


def report(res, out_dir):
    names = res["runtimes"]
    base = "crun" if "crun" in names else names[0]
    ms = lambda s: f"{s * 1000:.2f} ms"
    rows = []
    for key, label in (("run", "`run` /bin/true"), ("csd", "create + start + delete"),
                       ("exec", "`exec true` (latency)")):
        pair = res[key + "_ratio"]
        rows.append((label, [ms(res[key][n]) for n in names],
                     [pair.get(n, 1.0) for n in names]))
    rows.append(("peak RSS of the runtime (`run`)",
                 [f"{res['peak_rss'][n] / 1024:.1f} MiB" for n in names],
                 [ratio(res["peak_rss"]["rune"], res["peak_rss"][n]) for n in names]))
    per = {}
    for n_str, totals in res["batches"].items():
        n = int(n_str)
        per[n] = {r: t / n for r, t in totals.items()}
        rows.append((f"{n} containers, {PARALLEL} in parallel: total",
                     [f"{totals[r]:.2f} s ({per[n][r] * 1000:.2f} ms each)" for r in names],
                     [ratio(totals["rune"], totals[r]) for r in names]))
    lines = [f"Medians of {res['rounds']} interleaved rounds. Times are measured in pairs, rune "
             "against each other runtime (`rune/X` is from that pairing); memory and the batches "
             "one runtime after the other.", "",
             "| measure | " + " | ".join(names) + " | "
             + " | ".join(f"rune/{n}" for n in names[1:]) + " |",
             "|---" * (len(names) + len(names[1:]) + 1) + "|"]
    for label, vals, ratios in rows:
        lines.append(f"| {label} | " + " | ".join(vals) + " | "
                     + " | ".join(f"{x:.2f}" for x in ratios[1:]) + " |")
    er = res["enclave_run"]
    idle = res["idle_rss"]
    lines += ["", f"rune `run`: enclave (skeleton, sim) {ms(er['enclave'])}, plain {ms(er['plain'])}:"
              f" ratio {ratio(er['enclave'], er['plain']):.2f}.",
              f"Idle pid 1 RSS: enclave keeper {idle['enclave keeper (skeleton)']} KiB, plain init "
              f"{idle['plain init']} KiB, wasm init (a module sleeping) {idle['wasm init']} KiB."]
    wr = res["wasm_run"]
    lines.append(f"rune `run` of a WebAssembly module (tool.wasm, wasmi): plain {ms(wr['wasm'])}, in "
                 f"an enclave {ms(wr['wasm-enclave'])}, against native /bin/true {ms(wr['native'])}:"
                 f" ratios {ratio(wr['wasm'], wr['native']):.2f} and "
                 f"{ratio(wr['wasm-enclave'], wr['native']):.2f}.")
    small, big = min(per), max(per)
    growth = {r: ratio(per[big][r], per[small][r]) for r in names}
    lines.append(f"Per-container cost, batch of {big} against {small}: "
                 + ", ".join(f"{r} {growth[r]:.2f}" for r in names) + ".")
    lines.append("Left behind after all runs: " + (", ".join(res["leftovers"]) or "nothing") + ".")
    targets = []
    if "crun" in names:
        targets += [("run <= 0.8 of crun", res["run_ratio"]["crun"], 0.8),
                    ("create+start+delete <= 0.8 of crun", res["csd_ratio"]["crun"], 0.8),
                    ("exec <= 0.8 of crun", res["exec_ratio"]["crun"], 0.8),
                    ("peak RSS <= crun's", ratio(res["peak_rss"]["rune"], res["peak_rss"]["crun"]),
                     1.0)]
        targets += [(f"{n} containers, {PARALLEL} at a time, <= 0.8 of crun's total",
                     ratio(totals["rune"], totals["crun"]), 0.8)
                    for n, totals in ((int(k), v) for k, v in res["batches"].items()) if n >= 1000]
    if "runc" in names:
        targets.append(("exec <= 0.5 of runc", res["exec_ratio"]["runc"], 0.5))
    targets += [("idle enclave keeper <= 2 MiB (ratio to 2 MiB)",
                 idle["enclave keeper (skeleton)"] / 2048, 1.0),
                ("enclave run <= 1.1 of plain", ratio(er["enclave"], er["plain"]), 1.1),
                (f"per-container cost of {big} within 10% of {small}", growth["rune"], 1.1)]
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {t} | {v:.2f} | {'yes' if v <= lim else 'no'} |" for t, v, lim in targets]
    text = "\n".join(lines) + "\n"
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    plot(rows, names, base, out_dir)
    print(text)


def plot(rows, names, base, out_dir):
    """A bar chart of rune's time (or memory) relative to each other runtime, per measure."""
    if not shutil.which("gnuplot"):
        print("bench: gnuplot missing, no plot")
        return
    others = names[1:]
    data = os.path.join(out_dir, "ratios.dat")
    with open(data, "w") as f:
        for label, _, ratios in rows:
            short = label.replace("`", "").split(":")[0].replace(", 10 in parallel", " (10 at once)")
            f.write(f"\"{short}\" " + " ".join(f"{x:.3f}" for x in ratios[1:]) + "\n")
    cols = " , ".join(f"'{data}' using {i + 2}:xtic(1) title 'rune / {n}'"
                      for i, n in enumerate(others))
    script = f"""set terminal pngcairo size 1000,520 font ',10' noenhanced
set output '{os.path.join(out_dir, "results.png")}'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel 'rune, as a ratio of the other runtime (lower is better)'
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2
set key top left
set xtics rotate by -20
set grid ytics
set yrange [0:*]
plot {cols}
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


if __name__ == "__main__":
    main()
