#!/usr/bin/env bash
# demo.sh RUNE SKELETON_DIR: runs a plain container and an enclave container (the skeleton
# enclave runtime, enclave.type sim) from busybox bundles with rune, end to end.
set -euo pipefail
rune=$(realpath "$1")
skeleton=$(realpath "$2")
top=$(cd "$(dirname "$0")/.." && pwd)
work=$top/target/demo
root=$work/state
script='echo "hello from a rune container: hostname $(hostname), pid $$, uid $(id -u)"; ls /'

RUNE=$rune "$top/scripts/bundle.sh" "$work/plain" sh -c "$script"
echo "== rune run: a plain container"
"$rune" --root "$root" run --bundle "$work/plain" demo-plain

RUNE=$rune ENCLAVE_LIB=$skeleton/liberpal-skeleton-v3.so \
  "$top/scripts/bundle.sh" "$work/enclave" sh -c "echo 'hello from inside the enclave (skeleton, PAL v3)'; sleep 30"
echo "== rune run -d: an enclave container (annotations: $(grep -o '"enclave.type": "[a-z]*"' "$work/enclave/config.json"))"
"$rune" --root "$root" run -d --bundle "$work/enclave" demo-enclave
sleep 0.2
echo "== rune exec into the enclave"
"$rune" --root "$root" exec demo-enclave sh -c 'echo "exec runs in the enclave too: pid $$"'
echo "== rune attest (simulated report, first bytes)"
"$rune" --root "$root" attest demo-enclave | head -c 28; echo
"$rune" --root "$root" delete --force demo-enclave
echo "== done; containers left: $("$rune" --root "$root" list -q | wc -l)"
