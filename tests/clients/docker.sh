#!/usr/bin/env bash
# docker.sh: rune under Docker 20.10 (dockerd with `--add-runtime rune=<rune>`, and the
# containerd dockerd starts for itself). Run by run.sh, which sets RUNE, PAL, T, RESULTS,
# CGROUP_PARENT, IMAGES and PY. dockerd keeps all its state in $T/docker and is stopped (by its
# pid, with its containerd) when this script exits, whatever happens.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

D=$T/docker
mkdir -p "$D/cli"
export DOCKER_HOST=unix://$D/docker.sock DOCKER_CONFIG=$D/cli
# Debian's client, the daemon's own version (another docker may come first in PATH).
# Every call is bounded in time (a tty one, through script(1), ends with its short container).
docker() { timeout -k 5 120 /usr/bin/docker "$@"; }
IMG=rune-test/busybox:latest
RUN=(--runtime rune --network none)
# dockerd passes rune --root <exec-root>/runtime-runc/moby, whatever the runtime's name.
RR=$D/exec/runtime-runc/moby
echo '{}' >"$D/daemon.json"   # not /etc/docker/daemon.json

teardown() {
  if [ -f "$T/pids/dockerd" ] && alive "$(cat "$T/pids/dockerd")"; then
    local ids
    ids=$(docker ps -aq 2>/dev/null) || true
    [ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
  fi
  stop_daemon dockerd 30
}
trap teardown EXIT
trap 'exit 130' INT TERM

# No networking (no bridge, no iptables rules, no sysctls changed): containers use --network none.
start_dockerd() {
  start_daemon dockerd "$D/dockerd.log" "$D/docker.sock" 60 \
    dockerd --config-file "$D/daemon.json" --data-root "$D/data" --exec-root "$D/exec" \
    --pidfile "$D/dockerd.pid" -H "unix://$D/docker.sock" --iptables=false --ip-forward=false \
    --ip-masq=false --bridge=none --userland-proxy=false --cgroup-parent "$CGROUP_PARENT/docker" \
    --add-runtime "rune=$RUNE" || return
  wait_for 30 docker version || { echo "dockerd does not answer; its log ends with:"; tail -n 25 "$D/dockerd.log"; return 1; }
  want_in "runtimes" "$(docker info --format '{{json .Runtimes}}')" "\"rune\":{\"path\":\"$RUNE\"}" || return
  docker import "$IMAGES/rootfs.tar" "$IMG" >/dev/null
}
check dockerd-start start_dockerd
grep -q '^ok dockerd-start$' "$RESULTS" || exit 1

state() { docker inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$1"; }
id_of() { docker inspect --format '{{.Id}}' "$1"; }
cgroup_file() { echo "/sys/fs/cgroup/$1$CGROUP_PARENT/docker/$(id_of "$2")/$3"; }

docker_run() {
  local out rc=0
  out=$(docker run --name d-run "${RUN[@]}" "$IMG" sh -c 'echo hello from docker; exit 7' 2>&1) || rc=$?
  want "exit code" "$rc" 7 || return
  want "output" "$out" "hello from docker" || return
  want "runtime" "$(docker inspect --format '{{.HostConfig.Runtime}}' d-run)" rune || return
  docker rm d-run >/dev/null
}
check docker-run docker_run

docker_run_tty() {
  local out rc=0
  out=$(tty_run /usr/bin/docker run --rm -t "${RUN[@]}" "$IMG" sh -c 'tty; exit 2' 2>&1) || rc=$?
  want "exit code" "$rc" 2 || return
  want_in "output" "$out" /dev/pts/
}
check docker-run-tty docker_run_tty

docker_run_detached() {
  docker run -d --name d1 "${RUN[@]}" "$IMG" \
    sh -c 'echo started; trap "echo term; exit 3" TERM; while :; do sleep 0.2; done' >/dev/null || return
  want "state" "$(state d1)" "running 0" || return
  local id pid
  id=$(id_of d1)
  pid=$(docker inspect --format '{{.State.Pid}}' d1)
  want "rune state" "$("$RUNE" --root "$RR" state "$id" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], d["pid"])')" "running $pid" || return
  want_in "cgroup" "$(cat "/proc/$pid/cgroup")" "pids:$CGROUP_PARENT/docker/$id"
}
check docker-run-detached docker_run_detached

docker_exec() {
  local out rc=0
  out=$(docker exec d1 sh -c 'echo in exec; exit 4' 2>&1) || rc=$?
  want "exit code" "$rc" 4 || return
  want "output" "$out" "in exec"
}
check docker-exec docker_exec

docker_exec_tty() {
  local out rc=0
  out=$(tty_run /usr/bin/docker exec -t d1 sh -c 'tty; exit 5' 2>&1) || rc=$?
  want "exit code" "$rc" 5 || return
  want_in "output" "$out" /dev/pts/
}
check docker-exec-tty docker_exec_tty

docker_top() {
  local out
  out=$(docker top d1) || return
  want_in "top" "$out" 'sh -c echo started; trap' || return
  # Its `sleep 0.2` comes and goes: look again until one shows.
  wait_for 5 docker_top_sleep || { echo "top: no 'sleep 0.2' in: $(docker top d1)"; return 1; }
}
docker_top_sleep() { docker top d1 | grep -q 'sleep 0.2'; }
check docker-top docker_top

docker_stats() {
  local out
  out=$(docker stats --no-stream --format '{{.Name}} {{.PIDs}} {{.MemUsage}}' d1) || return
  [[ "$out" =~ ^d1\ [0-9]+\ [0-9.]+[KMG]i?B ]] || { echo "stats: $out"; return 1; }
}
check docker-stats docker_stats

docker_pause_unpause() {
  docker pause d1 >/dev/null || return
  want "state" "$(state d1)" "paused 0" || return
  want "freezer" "$(cat "$(cgroup_file freezer d1 freezer.state)")" FROZEN || return
  want "rune state" "$("$RUNE" --root "$RR" state "$(id_of d1)" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["status"])')" paused || return
  docker unpause d1 >/dev/null || return
  want "state" "$(state d1)" "running 0"
}
check docker-pause-unpause docker_pause_unpause

# docker update: rune update on the running container, seen in its cgroup files.
docker_update() {
  docker update --memory 64m --memory-swap 128m --cpu-shares 512 --pids-limit 50 d1 >/dev/null || return
  want "memory.limit_in_bytes" "$(cat "$(cgroup_file memory d1 memory.limit_in_bytes)")" 67108864 || return
  want "memory.memsw.limit_in_bytes" "$(cat "$(cgroup_file memory d1 memory.memsw.limit_in_bytes)")" 134217728 || return
  want "cpu.shares" "$(cat "$(cgroup_file cpu d1 cpu.shares)")" 512 || return
  want "pids.max" "$(cat "$(cgroup_file pids d1 pids.max)")" 50 || return
  want "docker inspect" "$(docker inspect --format '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}' d1)" "67108864 50"
}
check docker-update docker_update

docker_stop() {
  docker stop d1 >/dev/null || return
  want "state" "$(state d1)" "exited 3" || return
  want "logs" "$(docker logs d1 2>&1)" "started
term" || return
  docker start d1 >/dev/null || return
  want "state after start" "$(state d1)" "running 0"
}
check docker-stop-start docker_stop

docker_stop_kill() {
  docker run -d --name d2 "${RUN[@]}" "$IMG" sh -c 'trap "" TERM; while :; do sleep 0.2; done' >/dev/null || return
  local start=$SECONDS
  docker stop -t 1 d2 >/dev/null || return
  want "state" "$(state d2)" "exited 137" || return
  [ $((SECONDS - start)) -le 6 ] || { echo "stop -t 1 took $((SECONDS - start)) s"; return 1; }
}
check docker-stop-escalates-to-kill docker_stop_kill

docker_kill() {
  docker run -d --name d3 "${RUN[@]}" "$IMG" sh -c 'trap "exit 10" USR1; while :; do sleep 0.2; done' >/dev/null || return
  docker kill --signal USR1 d3 >/dev/null || return
  wait_for 5 eval '[ "$(state d3)" = "exited 10" ]' || { echo "state after USR1: $(state d3)"; return 1; }
  docker kill d1 >/dev/null || return
  wait_for 5 eval '[ "$(state d1)" = "exited 137" ]' || { echo "state after kill: $(state d1)"; return 1; }
}
check docker-kill docker_kill

docker_rm() {
  local ids id
  ids=$(docker ps -aq --no-trunc)
  docker rm d1 d2 d3 >/dev/null || return
  for id in $ids; do
    [ ! -e "$RR/$id" ] || { echo "rune's state $RR/$id is left"; return 1; }
    [ ! -e "/sys/fs/cgroup/pids$CGROUP_PARENT/docker/$id" ] || { echo "cgroup of $id is left"; return 1; }
  done
}
check docker-rm docker_rm

# An enclave container: `docker run -e` sets the variables rune reads (and removes from the
# payload's environment); the PAL's trace inside the container shows the payload ran through it.
ENCLAVE_ENV=(-e ENCLAVE_TYPE=sim -e "ENCLAVE_RUNTIME_PATH=$PAL" -e ENCLAVE_RUNTIME_ARGS=trace=/tmp/pal.trace)
docker_enclave() {
  local out rc=0
  out=$(docker run --rm "${RUN[@]}" "${ENCLAVE_ENV[@]}" "$IMG" \
    sh -c 'echo "payload: ENCLAVE_TYPE=${ENCLAVE_TYPE:-unset}"; cat /tmp/pal.trace; exit 9' 2>&1) || rc=$?
  want "exit code (output: $out)" "$rc" 9 || return
  want_in "output" "$out" "payload: ENCLAVE_TYPE=unset" || return
  want_in "output" "$out" "pal_init args=\"trace=/tmp/pal.trace\"" || return
  want_in "output" "$out" "pal_create_process path=/bin/sh"
}
check docker-enclave docker_enclave

docker_enclave_exec() {
  local out rc=0
  out=$(docker run -d --name enclave "${RUN[@]}" "${ENCLAVE_ENV[@]}" "$IMG" \
    sh -c 'trap "exit 0" TERM; while :; do sleep 0.2; done' 2>&1) || { echo "run: $out"; return 1; }
  want "state" "$(state enclave)" "running 0" || return
  out=$(docker exec enclave sh -c 'echo "exec: ENCLAVE_TYPE=${ENCLAVE_TYPE:-unset}"; grep -c pal_create_process /tmp/pal.trace; exit 6' 2>&1) || rc=$?
  want "exec exit code (output: $out)" "$rc" 6 || return
  want "exec output" "$out" "exec: ENCLAVE_TYPE=unset
2"
}
check docker-enclave-exec docker_enclave_exec

# exec -t: a terminal of the container's own devpts, as in a plain container (`tty` names it).
docker_enclave_exec_tty() {
  local out rc=0
  out=$(tty_run /usr/bin/docker exec -t enclave sh -c '[ -t 0 ] && [ -t 1 ] && echo stdio-is-a-tty; tty; exit 4' 2>&1) || rc=$?
  want "exit code (output: $out)" "$rc" 4 || return
  want_in "output" "$out" stdio-is-a-tty || return
  want_in "tty" "$out" /dev/pts/
}
check docker-enclave-exec-tty docker_enclave_exec_tty

docker_enclave_stop() {
  docker stop enclave >/dev/null || return
  want "state" "$(state enclave)" "exited 0" || return
  docker rm enclave >/dev/null
}
check docker-enclave-stop docker_enclave_stop
