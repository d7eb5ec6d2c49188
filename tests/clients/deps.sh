#!/usr/bin/env bash
# deps.sh: installs, once, the Debian 12 packages the client tests need: the clients themselves
# (containerd, Podman with conmon, Docker), Debian's gRPC and protobuf for Python and protoc
# (the CRI client), script(1) for the tty checks and busybox-static for the images.
# The packages' services are not started: the tests start their own daemons.
set -euo pipefail
pkgs=(containerd podman conmon docker.io golang-github-containers-common python3-grpcio
      python3-protobuf protobuf-compiler util-linux busybox-static)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "clients deps: installing ${missing[*]}"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
# Keep the packages' init scripts from starting system-wide containerd/dockerd (policy-rc.d
# exit 101: "action forbidden"), unless the machine already has a policy of its own.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
