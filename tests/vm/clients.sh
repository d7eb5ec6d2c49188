#!/usr/bin/env bash
# clients.sh: rune under Docker, Podman and containerd's CRI with the systemd cgroup manager,
# their default on this kind of host, inside the stock-host guest (run by tests/vm/test.sh).
# The daemons are the distribution's own services, started by systemd with rune added as a
# runtime; each container's limits must show in its transient scope (systemctl show), and
# stopping and removing it must leave no scope, cgroup or rune state. Plain and enclave (the
# skeleton, through the ENCLAVE_* variables). Prints `ok NAME` / `FAIL NAME: why`, then
# `N passed, M failed`.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
export RUNE=${RUNE:?RUNE: the rune binary} PAL=${PAL:?PAL: the skeleton v3 PAL}
export PY=/usr/bin/python3
T=$(mktemp -d /tmp/rune-vm-clients.XXXXXX)
export T RESULTS=$T/results IMAGES=$T/images
: >"$RESULTS"
. "$repo/tests/clients/lib.sh"
# tool.wasm as the host compiled it (make vm-test): the guest has no wabt.
"$PY" "$repo/tests/clients/mkimage.py" "$IMAGES" "$repo/target/wasm/tool.wasm" >/dev/null
IMG=rune-test/busybox:latest
ENCLAVE_ENV=(-e ENCLAVE_TYPE=sim -e "ENCLAVE_RUNTIME_PATH=$PAL")

# scope_of PID: the unit whose cgroup holds PID (0::/x.slice/y.scope -> y.scope).
scope_of() { sed -n 's|^0::/.*/\([^/]*\.scope\)$|\1|p' "/proc/$1/cgroup"; }
# limits UNIT PID: the scope holds PID and systemd reports the limits run gave (64 MiB, 40 tasks).
limits() {
  local unit=$1
  want "unit state" "$(systemctl is-active "$unit")" active || return
  want "MemoryMax" "$(systemctl show -P MemoryMax "$unit")" 67108864 || return
  want "TasksMax" "$(systemctl show -P TasksMax "$unit")" 40 || return
  want "Delegate" "$(systemctl show -P Delegate "$unit")" yes || return
  want "memory.max" "$(cat "/sys/fs/cgroup/$(systemctl show -P ControlGroup "$unit")/memory.max")" 67108864
}
gone() { # gone UNIT RUNE_ROOT: no unit, no rune state left
  wait_for 20 sh -c "! systemctl is-active -q '$1'" || { echo "$1 still active"; return 1; }
  want "rune state left in $2" "$("$RUNE" --root "$2" list -q 2>/dev/null)" ""
}

# --- Docker ----------------------------------------------------------------------------------
mkdir -p /etc/docker
cat >/etc/docker/daemon.json <<JSON
{"runtimes": {"rune": {"path": "$RUNE"}}, "bridge": "none", "iptables": false, "ip-masq": false}
JSON
docker_start() {
  systemctl start docker || { journalctl -u docker --no-pager | tail -20; return 1; }
  want "cgroup driver (default)" "$(docker info --format '{{.CgroupDriver}}')" systemd || return
  docker import "$IMAGES/rootfs.tar" "$IMG" >/dev/null
}
check docker-start docker_start
# client_case CLI SCOPE-PREFIX STATE-ROOT NAME [ENV...]: a container run through a client's
# command line (CLI: a function that runs it with rune as the runtime), in the systemd scope the
# client names, with the limits given; exec works; stop and rm leave no scope and no state.
client_case() {
  local cli=$1 prefix=$2 root=$3 name=$4; shift 4
  "$cli" run -d --name "$name" --network none --memory 64m --pids-limit 40 "$@" \
    "$IMG" sleep 1000 >/dev/null || return
  local pid unit
  pid=$("$cli" inspect --format '{{.State.Pid}}' "$name")
  unit=$(scope_of "$pid")
  want_in "scope" "$unit" "$prefix" || return
  limits "$unit" || return
  want "exec" "$("$cli" exec "$name" echo hi)" hi || return
  "$cli" stop -t 2 "$name" >/dev/null && "$cli" rm "$name" >/dev/null || return
  gone "$unit" "$root"
}
# Docker names the runtime per container (daemon.json's "rune").
docker_cli() {
  if [ "$1" = run ]; then shift; docker run --runtime rune "$@"; else docker "$@"; fi
}
docker_case() { client_case docker_cli docker- /run/docker/runtime-runc/moby "$@"; }
check docker-systemd-plain docker_case d-plain
check docker-systemd-enclave docker_case d-enclave "${ENCLAVE_ENV[@]}"
systemctl stop docker docker.socket containerd >/dev/null 2>&1

# --- Podman ----------------------------------------------------------------------------------
podman_cli() { podman --runtime "$RUNE" "$@"; }
podman_case() { client_case podman_cli libpod- /run/rune "$@"; }
podman_start() {
  want "cgroup manager (default)" "$(podman info --format '{{.Host.CgroupManager}}')" systemd || return
  podman import "$IMAGES/rootfs.tar" "$IMG" >/dev/null
}
check podman-start podman_start
check podman-systemd-plain podman_case p-plain
check podman-systemd-enclave podman_case p-enclave "${ENCLAVE_ENV[@]}"

# --- containerd's CRI, SystemdCgroup = true (kubeadm's default) ------------------------------
mkdir -p /etc/containerd
cat >/etc/containerd/config.toml <<TOML
version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/rune-test/pause:latest"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "rune"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.rune]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.rune.options]
        BinaryName = "$RUNE"
        Root = "/run/rune-cri"
        SystemdCgroup = true
TOML
containerd_start() {
  systemctl start containerd || { journalctl -u containerd --no-pager | tail -20; return 1; }
  wait_for 60 ctr version || return
  ctr -n k8s.io image import "$IMAGES/oci.tar" >/dev/null
}
check containerd-start containerd_start
mkdir -p "$T/gen"
if protoc -I "$repo/tests/clients" --python_out="$T/gen" "$repo/tests/clients/api.proto"; then
  "$PY" "$repo/tests/clients/cri_test.py" --systemd --socket /run/containerd/containerd.sock \
    --gen "$T/gen" --rune "$RUNE" --rune-root /run/rune-cri/k8s.io --logs "$T/pod-logs" \
    --cgroup-parent runecri --pal "$PAL" || true
else
  fail cri "protoc could not compile api.proto"
fi
check cri-no-rune-state-left want "rune state" "$("$RUNE" --root /run/rune-cri/k8s.io list -q 2>&1)" ""
systemctl stop containerd >/dev/null 2>&1

check no-rune-scopes-left want "scopes" "$(systemctl list-units --no-legend --state=active 'docker-*.scope' 'libpod-*.scope' 'cri-containerd-*.scope' | grep -v conmon)" ""
passed=$(grep -c '^ok ' "$RESULTS"); failed=$(grep -c '^FAIL ' "$RESULTS")
rm -rf "$T"
echo "clients: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
