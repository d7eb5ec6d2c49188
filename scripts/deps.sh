#!/usr/bin/env bash
# Installs what building and testing rune needs on Debian 12, once: the C libraries and tools
# from Debian's packages. The Rust toolchain itself is expected (rustup); see README.md.
set -euo pipefail
pkgs=(build-essential pkg-config libseccomp-dev libclang-dev clang busybox-static golang-go valgrind util-linux uidmap golang-github-containers-common dbus wabt)
[ "${1:-}" = "--bench" ] && pkgs+=(runc crun time gnuplot-nox)
[ "${1:-}" = "--hot-code" ] && pkgs+=(linux-perf)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v cargo >/dev/null || { echo "deps: cargo not found: install Rust with rustup (https://rustup.rs)" >&2; exit 1; }
