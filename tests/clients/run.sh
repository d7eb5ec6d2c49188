#!/usr/bin/env bash
# run.sh: rune under its real clients: containerd (ctr and the CRI), Podman and Docker, as root.
#
#   RUNE=/path/to/rune PAL=/path/to/liberpal-skeleton-v3.so tests/clients/run.sh [CLIENT...]
#
# WebAssembly: rune's engine, liberpal-wasm.so, beside RUNE (where `make build` puts it and rune
# finds it) runs the wasm image plainly and, as the enclave runtime WASM_PAL, in an enclave.
#
# CLIENT: containerd, podman, docker (default: all three). Builds nothing: `make clients-test`
# builds rune and the skeleton first and installs the Debian packages (tests/clients/deps.sh).
# Every daemon runs in the background with all its state in one temp dir, is stopped by the pid
# it was started with, and everything is cleaned up on every exit path. The last checks make
# sure nothing is left (processes, mounts, cgroups, rune state). Prints `N passed, M failed`
# last and exits non-zero when M > 0. The cgroup checks read cgroup v1 files (this project's hosts
# are v1 or hybrid).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
export RUNE=${RUNE:-$repo/target/release/rune}
export PAL=${PAL:-$repo/target/skeleton/liberpal-skeleton-v3.so}
export WASM_PAL=$(dirname "$RUNE")/liberpal-wasm.so
export PY=/usr/bin/python3   # Debian's, with python3-grpcio and python3-protobuf
. "$here/lib.sh"

clients=("$@")
[ ${#clients[@]} -gt 0 ] || clients=(containerd podman docker)

[ "$(id -u)" -eq 0 ] || { echo "run.sh: run as root (real daemons, real containers)" >&2; exit 1; }
T=$(mktemp -d /tmp/rune-clients.XXXXXX)
export T
export RESULTS=$T/results
export CGROUP_PARENT=/rune-clients-$$
export IMAGES=$T/images
: >"$RESULTS"

# Forced cleanup, on every exit path, after the checks: whatever is still there is removed so
# the machine is left as it was (the no-leftovers checks have already reported it).
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  trap '' PIPE   # keep cleaning up when whoever reads our output has gone
  local f
  for f in "$T"/pids/*; do
    [ -e "$f" ] && stop_daemon "$(basename "$f")" 10
  done
  # Shims, conmon and containers' processes that outlived their daemon.
  local pid rest
  while read -r pid rest; do
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  done < <(procs_under "$T")
  local root id
  for root in "$T"/rune-root/* "$T/docker/exec/runtime-runc/moby"; do
    [ -d "$root" ] || continue
    for id in $("$RUNE" --root "$root" list -q 2>/dev/null); do
      "$RUNE" --root "$root" delete --force "$id" >/dev/null 2>&1
    done
  done
  if [ -f "$T/podman/ids" ]; then
    while read -r id; do
      [ -d "/run/rune/$id" ] && "$RUNE" delete --force "$id" >/dev/null 2>&1
    done <"$T/podman/ids"
  fi
  local m
  for m in $(awk -v t="$T/" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
  # Containers' processes still in the run's cgroups (thawed first: a frozen one cannot die).
  local c p
  for c in $(find /sys/fs/cgroup/freezer"$CGROUP_PARENT" -name freezer.state 2>/dev/null); do
    echo THAWED >"$c" 2>/dev/null
  done
  for c in $(find /sys/fs/cgroup/*"$CGROUP_PARENT" -name cgroup.procs 2>/dev/null); do
    for p in $(cat "$c" 2>/dev/null); do
      kill -KILL "$p" 2>/dev/null
    done
  done
  [ -d "/sys/fs/cgroup/pids$CGROUP_PARENT" ] && wait_for 5 eval \
    "[ -z \"\$(find /sys/fs/cgroup/pids$CGROUP_PARENT -name cgroup.procs -exec cat {} +)\" ]"
  for c in /sys/fs/cgroup/*"$CGROUP_PARENT"; do
    [ -d "$c" ] || continue
    find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
    [ -d "$c" ] && echo "run.sh: could not remove cgroup $c" >&2
  done
  local passed failed
  passed=$(grep -c '^ok ' "$RESULTS" 2>/dev/null)
  failed=$(grep -c '^FAIL ' "$RESULTS" 2>/dev/null)
  if [ "$rc" -ne 0 ] && [ "${failed:-0}" -eq 0 ]; then
    echo "FAIL run.sh: stopped with status $rc"
    failed=1
  fi
  rm -rf "$T"
  echo
  echo "${passed:-0} passed, ${failed:-0} failed"
  [ "${failed:-0}" -eq 0 ] && exit 0
  exit 1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# What the clients need; each missing piece is a failure, never a silent pass.
prerequisites() {
  local missing=()
  [ -x "$RUNE" ] || missing+=("rune binary $RUNE (cargo build --release -p rune-core)")
  [ -f "$PAL" ] || missing+=("skeleton PAL $PAL (make -C skeleton BUILD_DIR=... all)")
  [ -f "$WASM_PAL" ] || missing+=("wasm engine $WASM_PAL (make wasm-engine)")
  local cmd
  for cmd in containerd ctr containerd-shim-runc-v2 podman conmon dockerd /usr/bin/docker script protoc /bin/busybox wat2wasm; do
    command -v "$cmd" >/dev/null || missing+=("$cmd")
  done
  "$PY" -c 'import grpc, google.protobuf' 2>/dev/null || missing+=("python3-grpcio/python3-protobuf")
  if [ ${#missing[@]} -gt 0 ]; then
    echo "missing: ${missing[*]} (tests/clients/deps.sh installs the packages)"
    return 1
  fi
  mkdir -p "$IMAGES" && wat2wasm "$repo/tests/fixtures/wasm/tool.wat" -o "$IMAGES/tool.wasm" || return
  "$PY" "$here/mkimage.py" "$IMAGES" "$IMAGES/tool.wasm"
}
check prerequisites prerequisites
grep -q '^ok prerequisites$' "$RESULTS" || exit 1
echo "# rune: $RUNE ($("$RUNE" --version 2>&1 | head -n 1)); state in $T; cgroups under $CGROUP_PARENT"

for client in "${clients[@]}"; do
  echo "# $client"
  before=$(grep -c '^FAIL ' "$RESULTS" || true)
  rc=0
  bash "$here/$client.sh" || rc=$?
  after=$(grep -c '^FAIL ' "$RESULTS" || true)
  if [ "$rc" -ne 0 ] && [ "$after" -eq "$before" ]; then
    fail "$client" "$client.sh exited with status $rc"
  fi
done

# Nothing left behind: no daemon, shim, conmon, rune or container process; no mount under the
# temp dir; no container cgroup; no container state under any rune root the clients used.
echo "# leftovers"
no_processes() {
  local left
  wait_for 10 eval '[ -z "$(procs_under "$T")" ]' || true
  left=$(procs_under "$T")
  local c p
  for c in $(find /sys/fs/cgroup/pids"$CGROUP_PARENT" -name cgroup.procs 2>/dev/null); do
    for p in $(cat "$c"); do
      left+=$'\n'"$p in cgroup ${c%/cgroup.procs}: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-120)"
    done
  done
  left=$(sed '/^$/d' <<<"$left")
  [ -z "$left" ] || { echo "still running: $left"; return 1; }
}
check no-leftover-processes no_processes

no_mounts() {
  local left
  left=$(awk -v t="$T/" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo)
  [ -z "$left" ] || { echo "still mounted: $left"; return 1; }
}
check no-leftover-mounts no_mounts

# The structural cgroups (the run's parent, one per client, the CRI pods' parents and Podman's
# cgroup for conmon) may stay empty; container cgroups must be gone.
no_cgroups() {
  local left="" c rel
  for c in $(find /sys/fs/cgroup/*"$CGROUP_PARENT" -type d 2>/dev/null); do
    rel=${c#/sys/fs/cgroup/*"$CGROUP_PARENT"}
    rel=${rel#/}
    [[ "$rel" =~ ^(|ctr|cri|cri/[a-z-]+-pod|docker|podman|podman/conmon)$ ]] || left+=" $c"
  done
  [ -z "$left" ] || { echo "container cgroups left:$left"; return 1; }
}
check no-leftover-cgroups no_cgroups

no_rune_state() {
  local left="" root id
  for root in "$T"/rune-root/* "$T/docker/exec/runtime-runc/moby"; do
    [ -d "$root" ] || continue
    for id in "$root"/*; do
      [ -e "$id" ] && left+=" $id"
    done
  done
  if [ -f "$T/podman/ids" ]; then
    while read -r id; do
      [ -e "/run/rune/$id" ] && left+=" /run/rune/$id"
    done <"$T/podman/ids"
  fi
  [ -z "$left" ] || { echo "rune state left:$left"; return 1; }
}
check no-leftover-rune-state no_rune_state
