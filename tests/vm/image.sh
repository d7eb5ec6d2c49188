#!/usr/bin/env bash
# image.sh: builds, once, the stock-host guest that tests/vm/run.sh boots: Debian 12 from
# Debian's packages (mmdebstrap), Debian's own kernel, systemd as pid 1 with its default pure
# cgroup v2 tree, D-Bus, and the container clients (containerd, Docker, Podman) with what the
# tests use in the guest. Nothing of rune is in it: the checkout is shared in at boot.
#
#   tests/vm/image.sh            prints the cached image's directory, building it if missing
#
# The image lives in $RUNE_VM_CACHE (default /var/cache/rune-vm), named for the hash of this
# script and of guest/, so a change to either builds a new one; older ones are removed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${RUNE_VM_CACHE:-/var/cache/rune-vm}
key=$(cat "$here/image.sh" "$here"/guest/* | sha256sum | cut -c1-16)
dir=$cache/debian12-$key
if [ -f "$dir/done" ]; then echo "$dir"; exit 0; fi

[ "$(id -u)" -eq 0 ] || { echo "image.sh: run as root (mmdebstrap, mkfs)" >&2; exit 1; }
"$here/deps.sh"
mkdir -p "$cache"
chmod 0755 "$cache"
exec 9>"$cache/build.lock"
flock 9
if [ -f "$dir/done" ]; then echo "$dir"; exit 0; fi
echo "vm: building the guest image in $dir (once)" >&2
tmp=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
pkgs=(systemd systemd-sysv dbus udev kmod linux-image-amd64 iproute2 procps util-linux
      busybox-static python3 make libseccomp2 containerd docker.io podman conmon
      golang-github-containers-common python3-grpcio python3-protobuf protobuf-compiler uidmap apparmor)
# No recommends: the image holds what the tests use, and builds faster.
mmdebstrap --quiet --variant=minbase --include="$(IFS=,; echo "${pkgs[*]}")" \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook='rm -f "$1"/etc/machine-id; : > "$1"/etc/machine-id' \
  --customize-hook='chroot "$1" systemctl disable docker.service docker.socket containerd.service podman.socket podman-auto-update.timer podman-restart.service 2>/dev/null || true' \
  bookworm "$root" >&2
install -m 0755 "$here/guest/rune-vm-run" "$root/usr/local/sbin/rune-vm-run"
install -m 0644 "$here/guest/rune-vm-run.service" "$root/etc/systemd/system/rune-vm-run.service"
ln -sf /etc/systemd/system/rune-vm-run.service \
  "$root/etc/systemd/system/multi-user.target.wants/rune-vm-run.service"
# No login prompt, no network wait, no timers: the guest boots to the test command and stops.
for u in getty@tty1.service serial-getty@ttyS0.service apt-daily.timer apt-daily-upgrade.timer \
         e2scrub_all.timer fstrim.timer systemd-networkd-wait-online.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$u"
done
echo "rune-vm" > "$root/etc/hostname"
printf '/dev/vda / ext4 rw,relatime 0 1\n' > "$root/etc/fstab"
# 9p for the shared checkout.
printf '9p\n9pnet\n9pnet_virtio\n' > "$root/etc/modules-load.d/9p.conf"
cp "$root"/boot/vmlinuz-* "$tmp/vmlinuz"
cp "$root"/boot/initrd.img-* "$tmp/initrd.img"
chmod 0644 "$tmp/vmlinuz" "$tmp/initrd.img"
# An ext4 image from the tree (no loop device, no mount): 4 GiB sparse, room for images.
truncate -s 4G "$tmp/root.img"
mkfs.ext4 -q -F -L rune-vm -d "$root" "$tmp/root.img"
rm -rf "$root"
touch "$tmp/done"
rm -rf "$cache"/debian12-*
mv "$tmp" "$dir"
trap - EXIT
chmod 0755 "$dir"
echo "$dir"
