#!/usr/bin/env bash
# demo.sh RUNE SKELETON_DIR: runs a plain container and an enclave container (the skeleton
# enclave runtime, enclave.type sim) from busybox bundles with rune, end to end; then a
# WebAssembly module on rune's engine (liberpal-wasm.so, beside RUNE), plainly and in an enclave.
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

engine=$(dirname "$rune")/liberpal-wasm.so
wasm_bundle() {  # DIR ARGS...: a busybox bundle whose entrypoint is /hello.wasm ARGS
  local dir=$1; shift
  RUNE=$rune "$top/scripts/bundle.sh" "$dir" /hello.wasm "$@"
  wat2wasm "$top/tests/fixtures/wasm/tool.wat" -o "$dir/rootfs/hello.wasm"
}
wasm_bundle "$work/wasm" args "hello from WebAssembly" "(module.wasm.image/variant: compat)"
python3 - "$work/wasm/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c.setdefault("annotations", {})["module.wasm.image/variant"] = "compat"
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY
echo "== rune run: a WebAssembly module, plain (rune's engine, wasmi)"
"$rune" --root "$root" run --bundle "$work/wasm" demo-wasm
ENCLAVE_LIB=$engine wasm_bundle "$work/wasm-enclave" args "hello from WebAssembly in an enclave" \
  "(liberpal-wasm.so as the PAL)"
echo "== rune run: the same module in an enclave"
"$rune" --root "$root" run --bundle "$work/wasm-enclave" demo-wasm-enclave
echo "== done; containers left: $("$rune" --root "$root" list -q | wc -l)"
