#!/usr/bin/env bash
# test.sh: `make vm-test`: in one boot of the stock-host guest (run.sh), the tests whose outcome
# depends on the host: host.sh (the systemd driver and cgroupfs on pure cgroup v2, plain and
# enclave), clients.sh (Docker, Podman and the CRI with their systemd managers), then the
# integration test files below, built here and run there against the debug rune (the rest of
# the suite runs on this machine in `make integration`); then host.sh again in a second boot
# with systemd's hybrid layout. Builds nothing itself: the Makefile builds rune (release and
# debug), the skeleton and the test binaries first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
# Integration test files that read or depend on the host's cgroups, devices or init: each finds
# out what its host offers (tests/src/leak.rs: CgroupHost) and asserts the v2 behaviour here;
# idmap_mounts shows idmapped mounts on another kernel (Debian 12's 6.1).
VM_TESTS=${VM_TESTS:-lifecycle devices systemd_cgroup cgroups resources resources_bad_input update update_order pause_events cgroup_v2 idmap_mounts wasm enclave_wasm}

bins=()
cargo=${CARGO:-cargo}
json=$("$cargo" test -p rune-integration --no-run --message-format=json 2>/dev/null)
for t in $VM_TESTS; do
  exe=$(printf '%s\n' "$json" | python3 -c '
import json, sys
want = sys.argv[1]
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == want and m.get("executable"):
        print(m["executable"])' "$t")
  [ -n "$exe" ] || { echo "test.sh: no test binary for tests/tests/$t.rs" >&2; exit 1; }
  bins+=("$exe")
done

guest=$(mktemp "$repo/target/vm-guest.XXXXXX.sh")
trap 'rm -f "$guest"' EXIT
{
  echo 'set -u; failed=0'
  echo "RUNE=$target/release/rune PAL=$target/skeleton/liberpal-skeleton-v3.so $here/host.sh || failed=1"
  echo "RUNE=$target/release/rune PAL=$target/skeleton/liberpal-skeleton-v3.so $here/clients.sh || failed=1"
  for b in "${bins[@]}"; do
    echo "echo \"== $(basename "$b")\""
    echo "RUNE_BIN=$target/debug/rune RUNE_SKELETON_DIR=$target/skeleton $b --test-threads=2 || failed=1"
  done
  echo 'exit $failed'
} > "$guest"
status=0
RUNE=$target/release/rune "$here/run.sh" -- sh "$guest" || status=1
# The same host booted with systemd's hybrid layout (v1 controllers): the systemd driver and
# cgroupfs there.
echo "== the guest again, cgroup hybrid (systemd.unified_cgroup_hierarchy=0)"
RUNE_VM_CGROUP=hybrid RUNE=$target/release/rune "$here/run.sh" -- env RUNE_VM_CGROUP=hybrid \
  RUNE="$target/release/rune" PAL="$target/skeleton/liberpal-skeleton-v3.so" "$here/host.sh" || status=1
exit $status
