#!/usr/bin/env bash
# cbindgen.sh [OUT]: regenerates include/rune.h (or OUT) from capi/src with a pinned cbindgen,
# installing that version first if it is missing. The pin matters: point releases of cbindgen
# may format the same code differently, which would fail `make header-check`.
set -euo pipefail
CBINDGEN_VERSION=0.29.4
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/include/rune.h}
bin=$(command -v cbindgen || true)
if [ -z "$bin" ] || [ "$("$bin" --version)" != "cbindgen $CBINDGEN_VERSION" ]; then
  echo "cbindgen.sh: installing cbindgen $CBINDGEN_VERSION" >&2
  cargo install cbindgen --version "$CBINDGEN_VERSION" --locked --force --quiet
  bin=$(command -v cbindgen || echo "$HOME/.cargo/bin/cbindgen")
fi
cd "$root/capi"
"$bin" --quiet --config cbindgen.toml --crate rune-capi --output "$out" .
