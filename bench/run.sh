#!/usr/bin/env bash
# bench/run.sh RUNE SKELETON_DIR [OUT]: rune beside Debian's crun and runc on the same busybox
# bundles, measured pair by pair by bench/bench.py; the report (results.md, results.png) goes
# to OUT (default target/bench). Ratios, not absolute times: machines are noisy.
set -euo pipefail
rune=$(realpath "$1")
skeleton=$(realpath "$2")
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${3:-$top/target/bench}")
work=$(mktemp -d /tmp/rune-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mk() { RUNE=$rune "$top/scripts/bundle.sh" "$@" >/dev/null; }
mk "$work/plain" /bin/true
mk "$work/sleep" sleep 1000
ENCLAVE_LIB=$skeleton/liberpal-skeleton-v3.so mk "$work/enclave" /bin/true
ENCLAVE_LIB=$skeleton/liberpal-skeleton-v3.so mk "$work/enclave-sleep" sleep 1000
# WebAssembly (rune only): tool.wasm (`args`: prints nothing, exits 0; `wait`: sleeps) run plainly
# by rune's engine beside the binary, and in an enclave of that engine.
engine=$(dirname "$rune")/liberpal-wasm.so
[ -f "$engine" ] || { echo "bench: $engine missing (make wasm-engine)" >&2; exit 1; }
wat2wasm "$top/tests/fixtures/wasm/tool.wat" -o "$work/tool.wasm"
wasm_bundle() {  # DIR VARIANT|enclave ARGS...
  local dir=$1 how=$2; shift 2
  if [ "$how" = enclave ]; then ENCLAVE_LIB=$engine mk "$dir" /tool.wasm "$@"; else mk "$dir" /tool.wasm "$@"; fi
  cp "$work/tool.wasm" "$dir/rootfs/tool.wasm"
  [ "$how" = enclave ] || python3 - "$dir/config.json" "$how" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c.setdefault("annotations", {})["module.wasm.image/variant"] = sys.argv[2]
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY
}
wasm_bundle "$work/wasm" compat args
wasm_bundle "$work/wasm-wait" compat wait
wasm_bundle "$work/wasm-enclave" enclave args
# crun 1.8 refuses this machine's hybrid layout (cgroup2 beside v1): the whole bench then runs
# with cgroup2 hidden (a private mount namespace without /sys/fs/cgroup/unified), a plain
# cgroup v1 host to all three runtimes alike.
view=()
if [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
  view=(env BENCH_CGROUP2_HIDDEN=1 unshare -m --propagation private
        sh -c 'umount /sys/fs/cgroup/unified && exec "$@"' sh)
  echo "bench: cgroup2 hidden (/sys/fs/cgroup/unified unmounted in a private mount namespace)"
fi
specs=("rune=$rune")
for r in crun runc; do
  b=$(command -v "$r" || true)
  if [ -z "$b" ]; then echo "bench: $r not installed, left out"; continue; fi
  if ! err=$("${view[@]}" "$b" --root "$work/probe-$r" run --bundle "$work/plain" "probe-$r" 2>&1); then
    echo "bench: $r cannot run here, left out: $(echo "$err" | tail -1)"
    continue
  fi
  specs+=("$r=$b")
done
"${view[@]}" python3 "$top/bench/bench.py" "$work" "$out" "${specs[@]}"
echo "bench: report in $out/results.md, plot in $out/results.png"
