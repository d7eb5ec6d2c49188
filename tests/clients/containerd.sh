#!/usr/bin/env bash
# containerd.sh: rune under containerd 1.6: ctr (task lifecycle, exec, tty, ps, metrics, pause,
# kill), an enclave container, WebAssembly (plain and in an enclave) and the CRI path
# (cri_test.py). Run by run.sh, which sets RUNE, PAL, WASM_PAL, T, RESULTS, CGROUP_PARENT, IMAGES
# and PY. containerd runs with all its state in $T/containerd
# and is stopped (by its pid) when this script exits, whatever happens.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

CD=$T/containerd
SOCK=$CD/containerd.sock
RR=$T/rune-root            # the shim's rune --root is $RR/<namespace>
NS=${CGROUP_PARENT#/}      # a containerd namespace unique to this run
IMG=docker.io/rune-test/busybox:latest
export CONTAINERD_ADDRESS=$SOCK CONTAINERD_NAMESPACE=$NS
# Every ctr call is bounded in time (a tty one goes through script(1) and is not: it ends with
# its container, which the tests keep short).
ctr() { timeout -k 5 90 /usr/bin/ctr "$@"; }
RUNTIME=(--runtime io.containerd.runc.v2 --runc-binary "$RUNE" --runc-root "$RR" --fifo-dir "$CD/fifo")
mkdir -p "$CD/fifo" "$CD/cni/bin" "$CD/cni/conf"

# Anything a failed check left running: tasks killed and deleted, containers removed, so the
# shims exit; then containerd itself. Runs on every exit path.
teardown() {
  if [ -f "$T/pids/containerd" ] && alive "$(cat "$T/pids/containerd")"; then
    local ns t c
    for ns in "$NS" k8s.io; do
      for t in $(ctr -n "$ns" task ls -q 2>/dev/null); do
        ctr -n "$ns" task kill -a -s KILL "$t" >/dev/null 2>&1 || true
      done
      for t in $(ctr -n "$ns" task ls -q 2>/dev/null); do
        wait_for 5 eval "ctr -n $ns task ls | grep -q \"^$t .*STOPPED\"" || true
        ctr -n "$ns" task rm -f "$t" >/dev/null 2>&1 || ctr -n "$ns" task rm "$t" >/dev/null 2>&1 || true
      done
      for c in $(ctr -n "$ns" container ls -q 2>/dev/null); do
        ctr -n "$ns" container rm "$c" >/dev/null 2>&1 || true
      done
    done
  fi
  stop_daemon containerd
}
trap teardown EXIT
trap 'exit 130' INT TERM

# runtime_type io.containerd.runc.v2 with BinaryName: the shim runs rune as it runs runc.
# restrict_oom_score_adj: the CRI gives sandboxes oom_score_adj -998, which needs
# CAP_SYS_RESOURCE (root here lacks it): with it set, containerd caps the value at its own.
cat >"$CD/config.toml" <<EOF
version = 2
root = "$CD/root"
state = "$CD/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = "$CD/debug.sock"

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "$CD/opt"
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "docker.io/rune-test/pause:latest"
    restrict_oom_score_adj = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "$CD/cni/bin"
      conf_dir = "$CD/cni/conf"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.rune]
        runtime_type = "io.containerd.runc.v2"
        # The CRI passes these container annotations on to rune (a wasm container's variant).
        container_annotations = ["module.wasm.image/*"]
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.rune.options]
          BinaryName = "$RUNE"
          Root = "$RR"
          SystemdCgroup = false
EOF

start_containerd() {
  start_daemon containerd "$CD/containerd.log" "$SOCK" 30 containerd --config "$CD/config.toml" || return
  # A broken CRI section only makes containerd warn and go on without the plugin.
  local plugins
  plugins=$(ctr plugins ls) || return
  if ! grep -Eq '^io\.containerd\.grpc\.v1\s+cri\s.*\sok\s*$' <<<"$plugins"; then
    echo "the CRI plugin did not load; containerd's log says:"
    grep -E 'level=(warning|error)' "$CD/containerd.log" | tail -n 5
    return 1
  fi
  ctr -n "$NS" image import "$IMAGES/oci.tar" >/dev/null || return
  ctr -n k8s.io image import "$IMAGES/oci.tar" >/dev/null || return
  want "image in $NS" "$(ctr -n "$NS" image ls -q | grep -c rune-test)" 3
}
check containerd-start start_containerd
if ! grep -q '^ok containerd-start$' "$RESULTS"; then
  exit 1
fi

task_status() { ctr task ls 2>/dev/null | awk -v id="$1" '$1 == id {print $3}'; }
task_pid() { ctr task ls 2>/dev/null | awk -v id="$1" '$1 == id {print $2}'; }
rune_status() {
  "$RUNE" --root "$RR/$NS" state "$1" 2>/dev/null | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], d["pid"])'
}
cg() { echo "$CGROUP_PARENT/ctr/$1"; }

# ctr run in the foreground: output and exit code.
ctr_run() {
  local out rc=0
  out=$(ctr run --rm "${RUNTIME[@]}" --cgroup "$(cg ctr-run)" "$IMG" ctr-run \
    sh -c 'echo "hello from ctr"; grep -q "pids:$0" /proc/self/cgroup && echo in-cgroup; exit 7' \
    "$(cg ctr-run)" 2>&1) || rc=$?
  want "exit code" "$rc" 7 || return
  want "output" "$out" "hello from ctr
in-cgroup"
}
check ctr-run ctr_run

ctr_run_tty() {
  local out rc=0
  out=$(tty_run ctr run --rm -t "${RUNTIME[@]}" --cgroup "$(cg ctr-tty)" "$IMG" ctr-tty \
    sh -c 'tty; exit 3' 2>&1) || rc=$?
  want "exit code" "$rc" 3 || return
  want_in "output" "$out" /dev/pts/
}
check ctr-run-tty ctr_run_tty

# A detached container that says when it gets TERM; the rest of the ctr checks use it.
ctr_run_detached() {
  ctr run -d "${RUNTIME[@]}" --cgroup "$(cg ctr-d)" --log-uri "file://$CD/ctr-d.log" "$IMG" ctr-d \
    sh -c 'echo started; trap "echo got TERM; exit 5" TERM; while :; do sleep 0.2; done' || return
  wait_for 5 grep -q started "$CD/ctr-d.log" || { echo "no output: $(cat "$CD/ctr-d.log")"; return 1; }
  want "task status" "$(task_status ctr-d)" RUNNING || return
  # rune ran it: its state under the shim's root names the task's pid.
  want "rune state" "$(rune_status ctr-d)" "running $(task_pid ctr-d)" || return
  want_in "cgroup" "$(cat "/proc/$(task_pid ctr-d)/cgroup")" "pids:$(cg ctr-d)"
}
check ctr-run-detached ctr_run_detached

ctr_exec() {
  local out rc=0
  out=$(ctr task exec --fifo-dir "$CD/fifo" --exec-id e1 ctr-d sh -c 'echo "in exec: $0"; exit 4' ctr-d 2>&1) || rc=$?
  want "exit code" "$rc" 4 || return
  want "output" "$out" "in exec: ctr-d"
}
check ctr-exec ctr_exec

ctr_exec_tty() {
  local out rc=0
  out=$(tty_run ctr task exec -t --fifo-dir "$CD/fifo" --exec-id e2 ctr-d sh -c 'tty; exit 6' 2>&1) || rc=$?
  want "exit code" "$rc" 6 || return
  want_in "output" "$out" /dev/pts/
}
check ctr-exec-tty ctr_exec_tty

ctr_ps() {
  local out
  out=$(ctr task ps ctr-d) || return
  want_in "task ps" "$out" "$(task_pid ctr-d) " || return
  # The shell and its current `sleep 0.2`: between two sleeps the shell is alone, so look again.
  wait_for 5 ctr_ps_two ||
    { echo "task ps lists fewer than 2 processes: $(ctr task ps ctr-d)"; return 1; }
}
ctr_ps_two() { [ "$(ctr task ps ctr-d | wc -l)" -ge 3 ]; }
check ctr-task-ps ctr_ps

ctr_metrics() {
  local out
  out=$(ctr task metrics ctr-d) || return
  want_in "metrics" "$out" pids.current || return
  want_in "metrics" "$out" memory.usage_in_bytes
}
check ctr-task-metrics ctr_metrics

ctr_pause_resume() {
  ctr task pause ctr-d || return
  want "task status" "$(task_status ctr-d)" PAUSED || return
  want "freezer" "$(cat "/sys/fs/cgroup/freezer$(cg ctr-d)/freezer.state")" FROZEN || return
  want "rune state" "$(rune_status ctr-d)" "paused $(task_pid ctr-d)" || return
  ctr task resume ctr-d || return
  want "task status" "$(task_status ctr-d)" RUNNING || return
  want "freezer" "$(cat "/sys/fs/cgroup/freezer$(cg ctr-d)/freezer.state")" THAWED
}
check ctr-task-pause-resume ctr_pause_resume

# kill TERM: the trap runs, the task stops with its exit code; delete removes rune's state.
ctr_kill_term() {
  ctr task kill -s TERM ctr-d || return
  wait_for 5 eval '[ "$(task_status ctr-d)" = STOPPED ]' || { echo "status $(task_status ctr-d) 5 s after TERM"; return 1; }
  wait_for 2 grep -q "got TERM" "$CD/ctr-d.log" || { echo "log: $(cat "$CD/ctr-d.log")"; return 1; }
  local out
  out=$(ctr task delete ctr-d 2>&1) || { echo "task delete: $out"; return 1; }
  want_in "task delete" "$out" "exit code 5" || return
  ctr container rm ctr-d || return
  [ ! -e "$RR/$NS/ctr-d" ] || { echo "rune's state $RR/$NS/ctr-d is left"; return 1; }
  [ ! -e "/sys/fs/cgroup/pids$(cg ctr-d)" ] || { echo "cgroup $(cg ctr-d) is left"; return 1; }
}
check ctr-task-kill-term ctr_kill_term

# kill --all KILL: every process of a container that ignores TERM, the init's children too.
ctr_kill_all() {
  ctr run -d "${RUNTIME[@]}" --cgroup "$(cg ctr-all)" --null-io "$IMG" ctr-all \
    sh -c 'trap "" TERM; sleep 1000 & while :; do sleep 0.2; done' || return
  wait_for 5 eval '[ "$(ctr task ps ctr-all | wc -l)" -ge 4 ]' || { echo "task ps: $(ctr task ps ctr-all)"; return 1; }
  local pids
  pids=$(ctr task ps ctr-all | awk 'NR > 1 {print $1}')
  ctr task kill -s TERM ctr-all || return
  sleep 0.5
  want "status after TERM (ignored)" "$(task_status ctr-all)" RUNNING || return
  ctr task kill --all -s KILL ctr-all || return
  wait_for 5 eval '[ "$(task_status ctr-all)" = STOPPED ]' || { echo "status $(task_status ctr-all) after kill --all"; return 1; }
  local p
  for p in $pids; do
    wait_for 2 eval "! alive $p" || { echo "pid $p survived kill --all"; return 1; }
  done
  local out
  out=$(ctr task delete ctr-all 2>&1) || { echo "task delete: $out"; return 1; }
  want_in "task delete" "$out" "exit code 137" || return
  ctr container rm ctr-all
}
check ctr-task-kill-all ctr_kill_all

# An enclave container (the skeleton v3 PAL, type sim), chosen by the process's environment as
# `docker run -e` would set it: rune removes the variables from the payload's environment, and
# the PAL's trace (inside the container) shows pal_init and the payload started through it.
ENCLAVE_ENV=(--env ENCLAVE_TYPE=sim --env "ENCLAVE_RUNTIME_PATH=$PAL" --env ENCLAVE_RUNTIME_ARGS=trace=/tmp/pal.trace)
ctr_enclave() {
  local out rc=0
  out=$(ctr run --rm "${RUNTIME[@]}" "${ENCLAVE_ENV[@]}" --cgroup "$(cg ctr-enclave)" "$IMG" ctr-enclave \
    sh -c 'echo "payload: ENCLAVE_TYPE=${ENCLAVE_TYPE:-unset}"; cat /tmp/pal.trace; exit 9' 2>&1) || rc=$?
  want "exit code (output: $out)" "$rc" 9 || return
  want_in "output" "$out" "payload: ENCLAVE_TYPE=unset" || return
  want_in "output" "$out" "pal_init args=\"trace=/tmp/pal.trace\"" || return
  want_in "output" "$out" "pal_create_process path=/bin/sh"
}
check ctr-enclave ctr_enclave

ctr_enclave_exec() {
  ctr run -d "${RUNTIME[@]}" "${ENCLAVE_ENV[@]}" --cgroup "$(cg ctr-enclave-d)" --null-io "$IMG" ctr-enclave-d \
    sh -c 'trap "exit 0" TERM; while :; do sleep 0.2; done' || return
  want "task status" "$(task_status ctr-enclave-d)" RUNNING || return
  local out rc=0
  out=$(ctr task exec --fifo-dir "$CD/fifo" --exec-id x1 ctr-enclave-d \
    sh -c 'echo "exec: ENCLAVE_TYPE=${ENCLAVE_TYPE:-unset}"; grep -c pal_create_process /tmp/pal.trace; exit 6' 2>&1) || rc=$?
  want "exec exit code (output: $out)" "$rc" 6 || return
  # Two pal_create_process calls: the entrypoint's and this exec's.
  want "exec output" "$out" "exec: ENCLAVE_TYPE=unset
2"
}
check ctr-enclave-exec ctr_enclave_exec

# exec -t: the process in the enclave gets a terminal of the container's own devpts, as in a
# plain container (`tty` names it).
ctr_enclave_exec_tty() {
  local out rc=0
  out=$(tty_run ctr task exec -t --fifo-dir "$CD/fifo" --exec-id x2 ctr-enclave-d \
    sh -c '[ -t 0 ] && [ -t 1 ] && echo stdio-is-a-tty; tty; exit 4' 2>&1) || rc=$?
  want "exit code (output: $out)" "$rc" 4 || return
  want_in "output" "$out" stdio-is-a-tty || return
  want_in "tty" "$out" /dev/pts/
}
check ctr-enclave-exec-tty ctr_enclave_exec_tty

ctr_enclave_stop() {
  ctr task kill -s TERM ctr-enclave-d || return
  wait_for 5 eval '[ "$(task_status ctr-enclave-d)" = STOPPED ]' || { echo "status $(task_status ctr-enclave-d) after TERM"; return 1; }
  local out
  out=$(ctr task delete ctr-enclave-d 2>&1) || { echo "task delete: $out"; return 1; }
  ctr container rm ctr-enclave-d || return
  [ ! -e "$RR/$NS/ctr-enclave-d" ] || { echo "rune's state $RR/$NS/ctr-enclave-d is left"; return 1; }
}
check ctr-enclave-stop ctr_enclave_stop

# WebAssembly: the wasm image (only /tool.wasm in its layer) run by rune's engine, chosen by the
# annotation as crun's wasm handlers are; its Cmd prints, `quit N` is its exit code.
WASM_IMG=docker.io/rune-test/wasm:latest
WASM=(--annotation module.wasm.image/variant=compat-smart)
ctr_wasm() {
  local out rc=0
  out=$(ctr run --rm "${RUNTIME[@]}" "${WASM[@]}" --cgroup "$(cg ctr-wasm)" "$WASM_IMG" ctr-wasm 2>&1) || rc=$?
  want "exit code (output: $out)" "$rc" 0 || return
  want "output" "$out" "hello from wasm" || return
  rc=0
  out=$(ctr run --rm "${RUNTIME[@]}" "${WASM[@]}" --cgroup "$(cg ctr-wasm)" "$WASM_IMG" ctr-wasm \
    /tool.wasm quit 12 2>&1) || rc=$?
  want "exit code of quit 12 (output: $out)" "$rc" 12
}
check ctr-wasm ctr_wasm

# The same image in an enclave: rune's engine as the enclave runtime (PAL v3, type sim); a kill
# reaches the module through pal_kill, in a busy loop.
ctr_wasm_enclave() {
  local env=(--env ENCLAVE_TYPE=sim --env "ENCLAVE_RUNTIME_PATH=$WASM_PAL")
  local out rc=0
  out=$(ctr run --rm "${RUNTIME[@]}" "${env[@]}" --cgroup "$(cg ctr-wasm-enclave)" "$WASM_IMG" ctr-wasm-enclave \
    /tool.wasm args in the enclave 2>&1) || rc=$?
  want "exit code (output: $out)" "$rc" 0 || return
  want "output" "$out" "in
the
enclave" || return
  ctr run -d "${RUNTIME[@]}" "${env[@]}" --cgroup "$(cg ctr-wasm-enclave)" --null-io "$WASM_IMG" ctr-wasm-spin \
    /tool.wasm spin || return
  want "task status" "$(task_status ctr-wasm-spin)" RUNNING || return
  ctr task kill -s TERM ctr-wasm-spin || return
  wait_for 5 eval '[ "$(task_status ctr-wasm-spin)" = STOPPED ]' || { echo "status $(task_status ctr-wasm-spin) after TERM"; return 1; }
  ctr task delete ctr-wasm-spin >/dev/null || return
  ctr container rm ctr-wasm-spin
}
check ctr-wasm-enclave ctr_wasm_enclave

# The CRI path: the Python client over containerd's socket, stubs compiled from api.proto.
mkdir -p "$CD/gen"
if protoc -I "$here" --python_out="$CD/gen" "$here/api.proto"; then
  "$PY" "$here/cri_test.py" --socket "$SOCK" --gen "$CD/gen" --rune "$RUNE" --rune-root "$RR/k8s.io" \
    --logs "$CD/pod-logs" --cgroup-parent "$CGROUP_PARENT/cri" --pal "$PAL" --wasm-pal "$WASM_PAL" || true
else
  fail cri "protoc could not compile $here/api.proto"
fi
