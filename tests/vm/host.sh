#!/usr/bin/env bash
# host.sh: rune on a stock systemd host with pure cgroup v2, run inside the guest by
# `make vm-test` (tests/vm/run.sh -- tests/vm/host.sh). Each check prints `ok` or `FAIL` with
# what it saw; the last line is `N passed, M failed`, and the exit status is non-zero when M > 0.
#
# The same container runs under both drivers: systemd (--systemd-cgroup: a transient scope,
# delegated, whose limits systemd itself reports, kept by update across daemon-reload, stopped
# on delete) and cgroupfs (rune writes the v2 files itself). Plain and enclave (the skeleton).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
rune=${RUNE:-rune}
pal=${PAL:-$repo/target/skeleton/liberpal-skeleton-v3.so}
T=$(mktemp -d /tmp/rune-host.XXXXXX)
root=$T/state
pass=0 fail=0
check() { # check NAME WANT GOT
  if [ "$2" = "$3" ]; then pass=$((pass+1)); echo "ok   $1"
  else fail=$((fail+1)); echo "FAIL $1: want [$2], got [$3]"; fi
}
check_ok() { # check_ok NAME CMD... (the command succeeds)
  local name=$1; shift
  # To a file, not $(...): a detached container keeps the output it was given open.
  if "$@" >"$T/out" 2>&1 </dev/null; then pass=$((pass+1)); echo "ok   $name"
  else fail=$((fail+1)); echo "FAIL $name: $* -> $(cat "$T/out")"; fi
}
cleanup() {
  for id in $("$rune" --root "$root" list -q 2>/dev/null); do
    "$rune" --root "$root" --systemd-cgroup delete --force "$id" >/dev/null 2>&1
    "$rune" --root "$root" delete --force "$id" >/dev/null 2>&1
  done
  rm -rf "$T"
}
trap cleanup EXIT

# bundle DIR SLICE_PATH [enclave]: a busybox bundle, limits set, cgroupsPath as given.
bundle() {
  local dir=$1 cgpath=$2 lib=
  [ "${3:-}" = enclave ] && lib=$pal
  RUNE=$rune ENCLAVE_LIB=$lib "$repo/scripts/bundle.sh" "$dir" sleep 100000 >/dev/null
  python3 - "$dir/config.json" "$cgpath" <<'PY'
import json, sys
path, cg = sys.argv[1], sys.argv[2]
c = json.load(open(path))
c["linux"]["cgroupsPath"] = cg
c["linux"]["resources"] = {
  "memory": {"limit": 67108864, "swap": 100663296},
  "pids": {"limit": 50},
  "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
}
json.dump(c, open(path, "w"), indent=2)
PY
}
show() { systemctl show -P "$2" "$1" 2>&1; }
# The layout systemd booted: pure v2, or hybrid (v1 controllers, the unified tree beside them).
# What each check reads, by layout: a v2 file in the unified cgroup, or a v1 file in its
# controller's hierarchy; and systemd's property names for it (v1 has its own).
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
  layout=v2
  MEM=memory.max SWAP=memory.swap.max SWAP_WANT=33554432 SWAP2_WANT=67108864
  CPU=cpu.max CPU_WANT="50000 100000" FREEZE=cgroup.freeze FROZEN=1
  P_MEM=MemoryMax
  cgfile() { cat "/sys/fs/cgroup/$1/$2" 2>&1; }
else
  layout=hybrid
  # v1 counts swap with memory: memsw is the spec's swap as given.
  MEM=memory.limit_in_bytes SWAP=memory.memsw.limit_in_bytes SWAP_WANT=100663296
  SWAP2_WANT=201326592 CPU=cpu.cfs_quota_us CPU_WANT=50000 FREEZE=freezer.state FROZEN=FROZEN
  P_MEM=MemoryLimit
  cgfile() { # the v1 hierarchy of the file's controller
    local c=${2%%.*}
    case $c in cpu) c=cpu,cpuacct ;; memory|pids|cpuset|freezer) ;; esac
    cat "/sys/fs/cgroup/$c/$1/$2" 2>&1
  }
fi

echo "# host: $(uname -r), $(stat -fc %T /sys/fs/cgroup), pid 1 $(cat /proc/1/comm), $(systemctl --version | head -1)"
check "the layout asked for (${RUNE_VM_CGROUP:-v2})" "${RUNE_VM_CGROUP:-v2}" "$layout"
check "rune features: systemd" true "$("$rune" features | python3 -c 'import json,sys; print(str(json.load(sys.stdin)["linux"]["cgroup"]["systemd"]).lower())')"

# --- the systemd driver --------------------------------------------------------------------
for kind in plain enclave; do
  id=sd-$kind unit=rune-probe-sd-$kind.scope cg=system.slice/rune-probe-sd-$kind.scope
  bundle "$T/$id" "system.slice:rune-probe:$id" $kind
  check_ok "systemd $kind: run -d" "$rune" --root "$root" --systemd-cgroup run -d --bundle "$T/$id" "$id"
  pid=$("$rune" --root "$root" state "$id" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
  check "systemd $kind: the unit is active" active "$(systemctl is-active "$unit")"
  check "systemd $kind: Delegate" yes "$(show "$unit" Delegate)"
  check "systemd $kind: $P_MEM" 67108864 "$(show "$unit" $P_MEM)"
  check "systemd $kind: TasksMax" 50 "$(show "$unit" TasksMax)"
  check "systemd $kind: CPUQuotaPerSecUSec" 500ms "$(show "$unit" CPUQuotaPerSecUSec)"
  if [ $layout = v2 ]; then
    check "systemd $kind: MemorySwapMax (swap - limit)" 33554432 "$(show "$unit" MemorySwapMax)"
    check "systemd $kind: CPUWeight" 20 "$(show "$unit" CPUWeight)"
    check "systemd $kind: AllowedCPUs" 0 "$(show "$unit" AllowedCPUs)"
  else
    check "systemd $kind: CPUShares" 512 "$(show "$unit" CPUShares)"
  fi
  check "systemd $kind: the init is in the scope" "0::/$cg" "$(grep '^0::' /proc/$pid/cgroup)"
  check "systemd $kind: $MEM" 67108864 "$(cgfile "$cg" $MEM)"
  check "systemd $kind: $SWAP" $SWAP_WANT "$(cgfile "$cg" $SWAP)"
  check "systemd $kind: pids.max" 50 "$(cgfile "$cg" pids.max)"
  check "systemd $kind: $CPU" "$CPU_WANT" "$(cgfile "$cg" $CPU)"
  check "systemd $kind: cpuset.cpus" 0 "$(cgfile "$cg" cpuset.cpus)"
  check_ok "systemd $kind: update" "$rune" --root "$root" --systemd-cgroup update --memory 134217728 --memory-swap 201326592 --pids-limit 80 "$id"
  check "systemd $kind: $P_MEM after update" 134217728 "$(show "$unit" $P_MEM)"
  check "systemd $kind: TasksMax after update" 80 "$(show "$unit" TasksMax)"
  systemctl daemon-reload
  check "systemd $kind: $MEM after daemon-reload" 134217728 "$(cgfile "$cg" $MEM)"
  check "systemd $kind: $SWAP after daemon-reload" $SWAP2_WANT "$(cgfile "$cg" $SWAP)"
  check "systemd $kind: pids.max after daemon-reload" 80 "$(cgfile "$cg" pids.max)"
  if [ "$kind" = plain ]; then
    check_ok "systemd $kind: exec -d" "$rune" --root "$root" --systemd-cgroup exec -d --pid-file "$T/exec.pid" "$id" sleep 30
    check "systemd $kind: the exec'd process is in the scope" "0::/$cg" "$(grep '^0::' "/proc/$(cat "$T/exec.pid")/cgroup" 2>&1)"
  else
    # The enclave runs the process inside the keeper, the scope's init.
    check "systemd $kind: exec in the enclave" hi "$("$rune" --root "$root" --systemd-cgroup exec "$id" echo hi 2>&1 </dev/null)"
  fi
  # The stats come from the scope's cgroup; the default devices pass both systemd's filter
  # (DevicePolicy/DeviceAllow) and rune's own.
  check "systemd $kind: events --stats (pids.current, memory usage)" "yes yes" "$("$rune" --root "$root" --systemd-cgroup events --stats "$id" 2>&1 </dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)["data"]
print("yes" if d["pids"]["current"] >= 1 else d["pids"], "yes" if d["memory"]["usage"]["usage"] > 0 else d["memory"])' 2>&1)"
  check "systemd $kind: default devices" "ok 1 1" "$("$rune" --root "$root" --systemd-cgroup exec "$id" sh -c 'echo x >/dev/null && echo ok $(head -c1 /dev/zero | wc -c) $(head -c1 /dev/urandom | wc -c)' 2>&1 </dev/null)"
  check_ok "systemd $kind: pause" "$rune" --root "$root" --systemd-cgroup pause "$id"
  check "systemd $kind: $FREEZE" $FROZEN "$(cgfile "$cg" $FREEZE)"
  check_ok "systemd $kind: resume" "$rune" --root "$root" --systemd-cgroup resume "$id"
  check_ok "systemd $kind: delete --force" "$rune" --root "$root" --systemd-cgroup delete --force "$id"
  check "systemd $kind: the unit is gone" inactive "$(systemctl is-active "$unit")"
  check "systemd $kind: the cgroup is gone" "" "$(ls -d /sys/fs/cgroup/$cg /sys/fs/cgroup/*/$cg 2>/dev/null)"
  check "systemd $kind: the init is gone" no "$([ -e "/proc/$pid" ] && echo yes || echo no)"
done

# An OOM kill in a scope: the init dies of it (137), the kernel counts it, delete leaves nothing.
oom_case() { # oom_case DRIVER_FLAG... (none for cgroupfs)
  local id=oom$# unit=rune-probe-oom$#.scope
  RUNE=$rune "$repo/scripts/bundle.sh" "$T/$id" sh -c 'x=a; while :; do x=$x$x; done' >/dev/null
  python3 - "$T/$id/config.json" "system.slice:rune-probe:$id" "$#" <<'PY'
import json, sys
path, cg, sd = sys.argv[1], sys.argv[2], sys.argv[3] != "0"
c = json.load(open(path))
c["linux"]["cgroupsPath"] = cg if sd else "/rune-host-test/oom"
c["linux"]["resources"] = {"memory": {"limit": 33554432, "swap": 33554432}}
json.dump(c, open(path, "w"), indent=2)
PY
  "$rune" --root "$root" "$@" run --bundle "$T/$id" "$id" >/dev/null 2>&1 </dev/null
  echo "exit $?"
  "$rune" --root "$root" "$@" delete --force "$id" >/dev/null 2>&1
  [ $# -eq 0 ] || systemctl is-active "$unit"
}
check "systemd: an OOM-killed init exits 137, its scope stopped" "exit 137
inactive" "$(oom_case --systemd-cgroup)"
check "cgroupfs: an OOM-killed init exits 137" "exit 137" "$(oom_case)"
rmdir /sys/fs/cgroup/rune-host-test/oom /sys/fs/cgroup/*/rune-host-test/oom 2>/dev/null

# --- cgroupfs on the same host (no --systemd-cgroup) ---------------------------------------
id=fs-plain cg=rune-host-test/fs-plain
bundle "$T/$id" "/$cg"
check_ok "cgroupfs: run -d" "$rune" --root "$root" run -d --bundle "$T/$id" "$id"
check "cgroupfs: $MEM" 67108864 "$(cgfile "$cg" $MEM)"
check "cgroupfs: $SWAP" $SWAP_WANT "$(cgfile "$cg" $SWAP)"
check "cgroupfs: pids.max" 50 "$(cgfile "$cg" pids.max)"
check "cgroupfs: $CPU" "$CPU_WANT" "$(cgfile "$cg" $CPU)"
check_ok "cgroupfs: delete --force" "$rune" --root "$root" delete --force "$id"
check "cgroupfs: the cgroup is gone" "" "$(ls -d /sys/fs/cgroup/$cg /sys/fs/cgroup/*/$cg 2>/dev/null)"
rmdir /sys/fs/cgroup/rune-host-test /sys/fs/cgroup/*/rune-host-test 2>/dev/null

check "no rune scope left" "" "$(systemctl list-units --all --no-legend 'rune-probe-*' 2>&1)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
