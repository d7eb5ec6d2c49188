#!/usr/bin/env bash
# demo.sh RUNE: runs a container from a busybox bundle with rune, end to end.
set -euo pipefail
rune=$(realpath "$1")
top=$(cd "$(dirname "$0")/.." && pwd)
work=$top/target/demo
root=$work/state
RUNE=$rune "$top/scripts/bundle.sh" "$work/bundle" sh -c \
  'echo "hello from a rune container: hostname $(hostname), pid $$, uid $(id -u)"; ls /; cat /proc/self/cgroup | head -3'
echo "== rune run (a plain container)"
"$rune" --root "$root" run --bundle "$work/bundle" demo
echo "== exit code $?; containers left: $("$rune" --root "$root" list -q | wc -l)"
