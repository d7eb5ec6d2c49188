#!/usr/bin/env bash
# run.sh: boots the stock-host guest (tests/vm/image.sh: Debian 12, its own kernel, systemd as
# pid 1, pure cgroup v2) under QEMU, runs a command in it as root and exits with its status.
#
#   tests/vm/run.sh [-- CMD...]        default CMD: a shell that prints what the guest is
#
# The checkout is shared into the guest at the same path (9p) and CMD runs from there; the
# host-built rune ($RUNE, default target/release/rune, else target/debug/rune) is on the
# guest's PATH. CMD's output is streamed as it runs. Each boot starts from the cached image
# through a throw-away overlay, so runs leave nothing in it and cannot see each other.
# Software emulation (TCG): on these machines a KVM guest hangs in early boot. RUNE_VM_ACCEL=kvm
# chooses KVM where a guest is seen to boot. RUNE_VM_TIMEOUT (seconds, default 2400) bounds a run.
# RUNE_VM_ENV: a file of shell assignments the guest sources before CMD.
# RUNE_VM_CGROUP=hybrid boots the same host with systemd's hybrid layout (v1 controllers, the
# unified tree at /sys/fs/cgroup/unified), as older distributions ran it; default: pure v2.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || set -- sh -c 'uname -r; cat /proc/1/comm; stat -fc %T /sys/fs/cgroup; systemctl --version | head -1; rune --version'
[ "$(id -u)" -eq 0 ] || { echo "run.sh: run as root" >&2; exit 1; }

img=$("$here/image.sh")
target=${CARGO_TARGET_DIR:-$repo/target}
rune=${RUNE:-}
if [ -z "$rune" ]; then
  for p in "$target/release/rune" "$target/debug/rune"; do [ -x "$p" ] && { rune=$p; break; }; done
fi
[ -n "$rune" ] && [ -x "$rune" ] || { echo "run.sh: no rune binary: build it (make build) or set RUNE" >&2; exit 1; }

ctl=$(mktemp -d /tmp/rune-vm.XXXXXX)
chmod 0755 "$ctl"
qpid=
cleanup() {
  [ -n "$qpid" ] && kill "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null
  rm -rf "$ctl"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir "$ctl/bin"
cp "$rune" "$ctl/bin/rune"
echo "$repo" > "$ctl/checkout"
# CMD, quoted for the guest's sh.
{ printf 'exec'; printf ' %q' "$@"; printf '\n'; } > "$ctl/cmd"
[ -n "${RUNE_VM_ENV:-}" ] && cp "$RUNE_VM_ENV" "$ctl/env"
qemu-img create -q -f qcow2 -F raw -b "$img/root.img" "$ctl/overlay.qcow2"
: > "$ctl/out.log"

# loglevel=3: only the kernel's critical messages on the (emulated, slow) serial console, which
# would otherwise stretch the kernel's own steps, such as an OOM kill's report.
cmdline="root=/dev/vda rw console=ttyS0 quiet loglevel=3 systemd.show_status=0 panic=-1"
case ${RUNE_VM_CGROUP:-v2} in
  v2) ;;
  hybrid) cmdline+=" systemd.unified_cgroup_hierarchy=0" ;;
  *) echo "run.sh: RUNE_VM_CGROUP is v2 or hybrid" >&2; exit 2 ;;
esac
accel=${RUNE_VM_ACCEL:-tcg}
cpu=max
[ "$accel" = kvm ] && cpu=host
qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -smp 2 -m 2048 -machine q35 \
  -display none -monitor none -no-reboot -nic none \
  -kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
  -append "$cmdline" \
  -drive "file=$ctl/overlay.qcow2,if=virtio,format=qcow2,cache=unsafe" \
  -virtfs "local,path=$ctl,mount_tag=ctl,security_model=none,id=ctl" \
  -virtfs "local,path=$repo,mount_tag=checkout,security_model=passthrough,id=checkout" \
  -serial "file:$ctl/console.log" -serial "file:$ctl/out.log" &
qpid=$!
tail -f -n +1 --pid="$qpid" "$ctl/out.log" &
tpid=$!
limit=${RUNE_VM_TIMEOUT:-2400}
# The watchdog holds none of our output open (a reader of it would wait for the sleep).
( sleep "$limit"; kill "$qpid" 2>/dev/null ) >/dev/null 2>&1 &
wpid=$!
wait "$qpid" || true
qpid=
pkill -P "$wpid" 2>/dev/null || true
kill "$wpid" 2>/dev/null || true
wait "$tpid" 2>/dev/null || true
if [ ! -s "$ctl/status" ]; then
  echo "run.sh: the guest ended without a status (timeout ${limit}s or a failed boot); its console:" >&2
  tail -n 40 "$ctl/console.log" >&2
  exit 125
fi
exit "$(cat "$ctl/status")"
