#!/usr/bin/env python3
"""hot_code.py: regenerates core/hot-code.ld, the list of the functions a container's lifecycle
runs, which the rune binary's link places together (build.rs).

Why: the kernel maps a binary's code in windows around each page fault (64 KiB at least), and a
run touched nearly every window of rune's: the functions it runs were spread over the whole
binary among the ones it never runs. Grouped, a run maps about half the code.

How: the release binary is built with the current list and run through the lifecycle
(bench/lifecycle.sh) under `perf record -e page-faults -d`; each fault in the rest of the text
names a function the list lacks. It is added, the binary built again, until a round finds none
(or ROUNDS rounds). Patterns leave out the symbol hash (`17h<hash>E`) and LLVM's local suffixes,
so a new compiler or dependency keeps most of the list; patterns no symbol matches are dropped.
Needs root (containers), perf and busybox-static. Run from the project root: `make hot-code`.
"""
import bisect
import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIST = os.path.join(TOP, "core", "hot-code.ld")
BIN = os.path.join(TOP, "target", "release", "rune")
ROUNDS = int(os.environ.get("ROUNDS", "8"))
HEADER = """\
/* The functions a container's lifecycle runs, placed together before the rest of the text (see
 * scripts/hot_code.py, which writes this file: `make hot-code`). The kernel maps code in
 * windows around each fault; grouped, a `run` maps about half of rune's code instead of nearly
 * all of it. One pattern per function, its symbol hash left out. */
SECTIONS
{
  .text.hot : {
"""
FOOTER = """\
  }
}
INSERT BEFORE .text;
"""


def pattern(symbol):
    """The symbol without its hash or LLVM's local suffix, as a glob."""
    s = re.sub(r"\.(llvm\.)?\d+$", "", symbol)
    s = re.sub(r"17h[0-9a-f]{16}E$", "17h", s)
    return s + "*"


def read_list():
    if not os.path.exists(LIST):
        return set()
    pats = set()
    for line in open(LIST):
        m = re.match(r"\s*\*\(\.text\.(\S+) ", line)
        if m:
            pats.add(m.group(1))
    return pats


def write_list(pats):
    with open(LIST, "w") as f:
        f.write(HEADER)
        for p in sorted(pats):
            f.write(f"    *(.text.{p} .text.unlikely.{p})\n")
        f.write(FOOTER)


def symbols():
    out = subprocess.run(["nm", "-S", "--defined-only", BIN], capture_output=True, text=True,
                         check=True).stdout
    syms = []
    for line in out.splitlines():
        p = line.split()
        if len(p) == 4 and p[2] in "tTwW":
            syms.append((int(p[0], 16), int(p[1], 16), p[3]))
    return sorted(syms)


def cold_range():
    out = subprocess.run(["readelf", "-SW", BIN], capture_output=True, text=True,
                         check=True).stdout
    m = re.search(r"\]\s+\.text\s+PROGBITS\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", out)
    start = int(m.group(1), 16)
    return start, start + int(m.group(2), 16)


def faults():
    """Addresses of the page faults rune's processes take during the lifecycle."""
    data = "/tmp/rune-hot-code.perf"
    subprocess.run(["perf", "record", "-q", "-e", "page-faults", "-c", "1", "-d", "-o", data,
                    os.path.join(TOP, "bench", "lifecycle.sh"), BIN], check=True,
                   stdout=subprocess.DEVNULL)
    out = subprocess.run(["perf", "script", "-i", data, "-F", "comm,addr"], capture_output=True,
                         text=True, check=True).stdout
    os.unlink(data)
    return [int(line.split()[-1], 16) for line in out.splitlines()
            if line.split() and line.split()[0].startswith("rune")]


def main():
    pats = read_list()
    for round_ in range(1, ROUNDS + 1):
        subprocess.run(["cargo", "build", "-q", "--release", "-p", "rune-core", "--bin", "rune"],
                       cwd=TOP, check=True)
        syms = symbols()
        starts = [s[0] for s in syms]
        lo, hi = cold_range()
        new = set()
        for a in faults():
            i = bisect.bisect_right(starts, a) - 1
            if lo <= a < hi and i >= 0 and syms[i][0] <= a < syms[i][0] + max(syms[i][1], 1):
                name = syms[i][2]
                if name not in ("_start", "_init", "_fini") and pattern(name) not in pats:
                    new.add(pattern(name))
        print(f"hot_code: round {round_}: {len(new)} functions run outside the list")
        if not new:
            break
        pats |= new
        write_list(pats)
    # Drop what no symbol of this build matches any more.
    names = [s[2] for s in symbols()]
    kept = {p for p in pats if any(n.startswith(p[:-1]) or pattern(n) == p for n in names)}
    print(f"hot_code: {len(kept)} patterns ({len(pats) - len(kept)} matched nothing, dropped)")
    write_list(kept)


if __name__ == "__main__":
    sys.exit(main())
