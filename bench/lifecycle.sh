#!/usr/bin/env bash
# bench/lifecycle.sh RUNE: one container's lifecycle as a manager drives it (run; create, start,
# state, list, ps, exec, pause, resume, events, kill, delete; spec, --version, an unknown id),
# on busybox bundles made here. scripts/hot_code.py learns rune's hot code from it.
set -euo pipefail
rune=$(realpath "$1")
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/rune-lifecycle.XXXXXX)
r() { "$rune" --root "$work/state" "$@"; }
trap 'r delete -f lc-sleep >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
RUNE=$rune "$top/scripts/bundle.sh" "$work/true" /bin/true >/dev/null
RUNE=$rune "$top/scripts/bundle.sh" "$work/sleep" sleep 1000 >/dev/null
r run --bundle "$work/true" lc-run
r create --bundle "$work/sleep" lc-sleep
r start lc-sleep
r state lc-sleep >/dev/null
r list >/dev/null
r ps lc-sleep >/dev/null
r exec lc-sleep true
r pause lc-sleep
r resume lc-sleep
r events --stats lc-sleep >/dev/null
r kill lc-sleep KILL
r delete -f lc-sleep
r state lc-none >/dev/null 2>&1 || true
"$rune" --version >/dev/null
mkdir "$work/spec" && "$rune" spec --bundle "$work/spec"
