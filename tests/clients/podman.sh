#!/usr/bin/env bash
# podman.sh: rune under Podman 4.3 (no daemon: podman and one conmon per container). Run by
# run.sh, which sets RUNE, WASM_PAL, T, RESULTS, CGROUP_PARENT, IMAGES and PY. Podman's configuration,
# storage and temp files are all in $T/podman (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF).
# Podman gives rune no --root, so rune keeps these containers' state in its default root
# /run/rune; the ids go to $T/podman/ids for run.sh's leftovers check.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

P=$T/podman
mkdir -p "$P/tmp" "$P/networks"
export CONTAINERS_CONF=$P/containers.conf CONTAINERS_STORAGE_CONF=$P/storage.conf TMPDIR=$P/tmp
IMG=localhost/rune-test/busybox:latest
# Every call is bounded in time (a tty one, through script(1), ends with its short container).
podman() { timeout -k 5 120 /usr/bin/podman "$@"; }
CG=(--cgroup-parent "$CGROUP_PARENT/podman")

# runtime_supports_json: Podman passes --log-format json (and reads rune's errors from the log)
# only to the runtimes named there. default_ulimits: root here lacks CAP_SYS_RESOURCE and the
# host's hard nofile limit is 20000, below Podman's default of 1048576.
cat >"$P/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"

[network]
network_config_dir = "$P/networks"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$P/events.log"
tmp_dir = "$P/tmp"
runtime = "rune"
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "rune"]

[engine.runtimes]
rune = ["$RUNE"]
EOF
cat >"$P/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$P/root"
runroot = "$P/runroot"
EOF

teardown() {
  local ids
  ids=$(podman ps -aq 2>/dev/null) || true
  [ -z "$ids" ] || podman rm -f -t 0 $ids >/dev/null 2>&1 || true
  # A podman command that fails (as `run` of a missing command does, by design) leaves its
  # storage's own bind mount of <graphroot>/overlay; the next one that succeeds removes it.
  podman ps -a >/dev/null 2>&1 || true
}
trap teardown EXIT
trap 'exit 130' INT TERM

state() { podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$1"; }
remember() { podman inspect --format '{{.Id}}' "$1" >>"$P/ids"; }

WASM_IMG=localhost/rune-test/wasm:latest
podman_import() {
  podman import "$IMAGES/rootfs.tar" "$IMG" >/dev/null || return
  podman import "$IMAGES/wasm.tar" "$WASM_IMG" >/dev/null || return
  want "runtime" "$(podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}')" "rune $RUNE"
}
check podman-setup podman_import
grep -q '^ok podman-setup$' "$RESULTS" || exit 1

podman_run() {
  local out rc=0
  out=$(podman run --runtime "$RUNE" --name p-run "${CG[@]}" "$IMG" sh -c 'echo hello from podman; ulimit -n; exit 7' 2>&1) || rc=$?
  remember p-run
  want "exit code" "$rc" 7 || return
  want "output" "$out" "hello from podman
1024" || return
  want "OCI runtime" "$(podman inspect --format '{{.OCIRuntime}}' p-run)" "$RUNE" || return
  podman rm p-run >/dev/null
}
check podman-run podman_run

podman_run_tty() {
  local out rc=0
  out=$(tty_run podman run --rm -t "${CG[@]}" "$IMG" sh -c 'tty; exit 2' 2>&1) || rc=$?
  want "exit code" "$rc" 2 || return
  want_in "output" "$out" /dev/pts/
}
check podman-run-tty podman_run_tty

# Errors reach Podman through rune's JSON log: a missing command is 127, as with runc.
podman_run_missing() {
  local out rc=0
  out=$(podman run --rm "${CG[@]}" "$IMG" /no/such/command 2>&1) || rc=$?
  want "exit code (output: $out)" "$rc" 127 || return
  want_in "error" "$out" "/no/such/command" || return
  # Through the JSON log Podman gets the bare message; from a text log it would show
  # rune's `time=... level=error msg=...` line.
  case "$out" in
    *level=error*) echo "Podman read rune's error as text, not JSON: $out"; return 1 ;;
  esac
}
check podman-run-missing-command podman_run_missing

# A detached container that says when it gets TERM; most checks below use it.
podman_run_detached() {
  podman run -d --name p1 "${CG[@]}" "$IMG" \
    sh -c 'echo started; trap "echo term; exit 3" TERM; while :; do sleep 0.2; done' >/dev/null || return
  remember p1
  want "state" "$(state p1)" "running 0" || return
  local id pid
  id=$(podman inspect --format '{{.Id}}' p1)
  pid=$(podman inspect --format '{{.State.Pid}}' p1)
  want "rune state" "$("$RUNE" state "$id" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], d["pid"])')" "running $pid" || return
  want_in "cgroup" "$(cat "/proc/$pid/cgroup")" "pids:$CGROUP_PARENT/podman/libpod-$id"
}
check podman-run-detached podman_run_detached

podman_exec() {
  local out rc=0
  out=$(podman exec p1 sh -c 'echo in exec; exit 4' 2>&1) || rc=$?
  want "exit code" "$rc" 4 || return
  want "output" "$out" "in exec" || return
  rc=0
  out=$(podman exec p1 /no/such/command 2>&1) || rc=$?
  want "exit code of a missing command (output: $out)" "$rc" 127
}
check podman-exec podman_exec

podman_exec_tty() {
  local out rc=0
  out=$(tty_run podman exec -t p1 sh -c 'tty; exit 5' 2>&1) || rc=$?
  want "exit code" "$rc" 5 || return
  want_in "output" "$out" /dev/pts/
}
check podman-exec-tty podman_exec_tty

podman_ps() {
  want_in "ps" "$(podman ps --format '{{.Names}} {{.Status}}')" "p1 Up"
}
check podman-ps podman_ps

podman_top() {
  local out
  out=$(podman top p1 pid args) || return
  want_in "top" "$out" 'sh -c echo started; trap' || return
  # Its `sleep 0.2` comes and goes: look again until one shows.
  wait_for 5 podman_top_sleep || { echo "top: no 'sleep 0.2' in: $(podman top p1 pid args)"; return 1; }
}
podman_top_sleep() { podman top p1 pid args | grep -q 'sleep 0.2'; }
check podman-top podman_top

podman_logs() {
  want "logs" "$(podman logs p1 2>&1)" started
}
check podman-logs podman_logs

podman_stats() {
  local out
  out=$(podman stats --no-stream --format '{{.Name}} {{.PIDs}} {{.MemUsage}}' p1) || return
  [[ "$out" =~ ^p1\ [0-9]+\ [0-9.]+[kMG]?B ]] || { echo "stats: $out"; return 1; }
}
check podman-stats podman_stats

podman_pause_unpause() {
  local id
  id=$(podman inspect --format '{{.Id}}' p1)
  podman pause p1 >/dev/null || return
  want "state" "$(state p1)" "paused 0" || return
  want "freezer" "$(cat "/sys/fs/cgroup/freezer$CGROUP_PARENT/podman/libpod-$id/freezer.state")" FROZEN || return
  podman unpause p1 >/dev/null || return
  want "state" "$(state p1)" "running 0"
}
check podman-pause-unpause podman_pause_unpause

podman_stop() {
  podman stop p1 >/dev/null || return
  want "state" "$(state p1)" "exited 3" || return
  want "logs" "$(podman logs p1 2>&1)" "started
term"
}
check podman-stop podman_stop

# start and restart a stopped container: a new init each time, through rune again.
podman_restart() {
  podman start p1 >/dev/null || return
  want "state after start" "$(state p1)" "running 0" || return
  local pid1 pid2
  pid1=$(podman inspect --format '{{.State.Pid}}' p1)
  podman restart p1 >/dev/null || return
  want "state after restart" "$(state p1)" "running 0" || return
  pid2=$(podman inspect --format '{{.State.Pid}}' p1)
  [ "$pid1" != "$pid2" ] || { echo "same pid $pid1 after restart"; return 1; }
  want "logs" "$(podman logs p1 2>&1 | grep -c started)" 3
}
check podman-restart podman_restart

# stop escalates to KILL when the process ignores TERM.
podman_stop_kill() {
  podman run -d --name p2 "${CG[@]}" "$IMG" sh -c 'trap "" TERM; while :; do sleep 0.2; done' >/dev/null || return
  remember p2
  local start=$SECONDS
  podman stop -t 1 p2 >/dev/null 2>&1 || return
  want "state" "$(state p2)" "exited 137" || return
  [ $((SECONDS - start)) -le 6 ] || { echo "stop -t 1 took $((SECONDS - start)) s"; return 1; }
}
check podman-stop-escalates-to-kill podman_stop_kill

podman_kill() {
  # A signal the container's init handles (PID 1 of a PID namespace ignores the others).
  podman run -d --name p3 "${CG[@]}" "$IMG" sh -c 'trap "exit 10" USR1; while :; do sleep 0.2; done' >/dev/null || return
  remember p3
  podman kill --signal USR1 p3 >/dev/null || return
  wait_for 5 eval '[ "$(state p3)" = "exited 10" ]' || { echo "state after USR1: $(state p3)"; return 1; }
  # The default, KILL, to p1 (running again since the restart; it traps TERM only).
  podman kill p1 >/dev/null || return
  wait_for 5 eval '[ "$(state p1)" = "exited 137" ]' || { echo "state after kill: $(state p1)"; return 1; }
}
check podman-kill podman_kill

podman_rm_f() {
  podman run -d --name p4 "${CG[@]}" "$IMG" sh -c 'trap "exit 0" TERM; while :; do sleep 0.2; done' >/dev/null || return
  remember p4
  local id
  id=$(podman inspect --format '{{.Id}}' p4)
  podman rm -f p4 >/dev/null || return
  podman rm p1 p2 p3 >/dev/null || return
  want "containers" "$(podman ps -aq)" "" || return
  [ ! -e "/run/rune/$id" ] || { echo "rune's state /run/rune/$id is left"; return 1; }
  [ ! -e "/sys/fs/cgroup/pids$CGROUP_PARENT/podman/libpod-$id" ] || { echo "cgroup libpod-$id is left"; return 1; }
}
check podman-rm-f podman_rm_f

# WebAssembly: the wasm image (only /tool.wasm) with the variant annotation runs on rune's
# engine; with the enclave variables, in an enclave of that engine (as its PAL); `podman stop`
# ends a module in a busy loop.
podman_wasm() {
  local out rc=0
  out=$(podman run --rm --annotation module.wasm.image/variant=compat-smart "${CG[@]}" "$WASM_IMG" \
    /tool.wasm args hello from wasm 2>&1) || rc=$?
  want "exit code (output: $out)" "$rc" 0 || return
  want "output" "$out" "hello
from
wasm" || return
  rc=0
  out=$(podman run --rm -e ENCLAVE_TYPE=sim -e "ENCLAVE_RUNTIME_PATH=$WASM_PAL" "${CG[@]}" "$WASM_IMG" \
    /tool.wasm quit 21 2>&1) || rc=$?
  want "enclave exit code (output: $out)" "$rc" 21 || return
  podman run -d --name p-wasm --annotation module.wasm.image/variant=compat "${CG[@]}" "$WASM_IMG" \
    /tool.wasm spin >/dev/null || return
  remember p-wasm
  podman stop -t 10 p-wasm >/dev/null || return
  want "state after stop" "$(state p-wasm)" "exited 143" || return
  podman rm p-wasm >/dev/null
}
check podman-wasm podman_wasm
