#!/usr/bin/env bash
# bench/run.sh RUNE: rune side by side with Debian's runc and crun on a busybox bundle.
# Prints each runtime's median for `run /bin/true` and for create+start+delete, the ratio to
# runc, and the peak memory (max RSS) of one `run`. Ratios, not absolute times: machines are noisy.
set -euo pipefail
rune=$(realpath "$1")
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/rune-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
RUNE=$rune "$top/scripts/bundle.sh" "$work/bundle" /bin/true >/dev/null
runtimes=(rune runc crun)
declare -A bin=([rune]=$rune [runc]=$(command -v runc || true) [crun]=$(command -v crun || true))
ok=()
for r in "${runtimes[@]}"; do
  b=${bin[$r]}
  if [ -z "$b" ]; then echo "$r: not installed, skipped"; continue; fi
  if ! err=$("$b" --root "$work/root-$r" run --bundle "$work/bundle" probe-$r 2>&1); then
    echo "$r: cannot run on this host: $(echo "$err" | tail -1)"
    "$b" --root "$work/root-$r" delete -f probe-$r >/dev/null 2>&1 || true
    continue
  fi
  ok+=("$r")
done
# crun 1.8 refuses the hybrid layout (cgroup2 beside v1) outright. Where it did, run the whole
# comparison a second time with cgroup2 hidden: a private mount namespace with
# /sys/fs/cgroup/unified unmounted, a plain cgroup v1 host to all three runtimes.
if [ -n "${bin[crun]}" ] && [[ " ${ok[*]} " != *" crun "* ]] && [ -z "${BENCH_V1_VIEW:-}" ] \
   && [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
  again=1
fi
cmds_run=(); cmds_csd=()
for r in "${ok[@]}"; do
  b=${bin[$r]}
  cmds_run+=("$b --root $work/root-$r run --bundle $work/bundle b-$r")
  cmds_csd+=("sh -c '$b --root $work/root-$r create --bundle $work/bundle c-$r && $b --root $work/root-$r start c-$r && $b --root $work/root-$r delete -f c-$r'")
done
hyperfine -N -w 5 -r "${RUNS:-60}" --export-json "$work/run.json" "${cmds_run[@]}" >/dev/null 2>&1
hyperfine -w 5 -r "${RUNS:-60}" --export-json "$work/csd.json" "${cmds_csd[@]}" >/dev/null 2>&1
for r in "${ok[@]}"; do
  b=${bin[$r]}
  /usr/bin/time -f "%M" -o "$work/mem-$r" "$b" --root "$work/root-$r" run --bundle "$work/bundle" m-$r
done
python3 - "$work" "${ok[@]}" <<'PY'
import json, sys
work, names = sys.argv[1], sys.argv[2:]
def medians(f):
    return [r["median"] * 1000 for r in json.load(open(f"{work}/{f}"))["results"]]
run, csd = medians("run.json"), medians("csd.json")
mem = [int(open(f"{work}/mem-{n}").read().split()[-1]) for n in names]
base = names.index("runc") if "runc" in names else 0
print(f"{'runtime':8} {'run /bin/true':>14} {'ratio':>6}   {'create+start+delete':>20} {'ratio':>6}   {'peak RSS':>9}")
for i, n in enumerate(names):
    print(f"{n:8} {run[i]:11.2f} ms {run[i]/run[base]:6.2f}   {csd[i]:17.2f} ms {csd[i]/csd[base]:6.2f}   {mem[i]:6d} KiB")
PY
if [ -n "${again:-}" ]; then
  echo
  echo "again with cgroup2 hidden (a cgroup v1 host to all three):"
  BENCH_V1_VIEW=1 unshare -m --propagation private \
    sh -c 'umount /sys/fs/cgroup/unified && exec "$0" "$1"' "$0" "$rune"
fi
