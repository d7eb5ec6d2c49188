#!/bin/sh
# Runs rune-core's unit tests once more as an unprivileged user (nobody), to show that they
# need no root: the mount, namespace and init steps run against the recording Syscall fake.
# Run as a plain user already, the tests just run again as that user.
set -eu
cargo=${CARGO:-cargo}
bin=$($cargo test -q -p rune-core --lib --no-run --message-format=json 2>/dev/null |
  sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
[ -x "$bin" ] || { echo "unit-unprivileged: no unit test binary found" >&2; exit 1; }
dir=$(mktemp -d /tmp/rune-unit-XXXXXX)
trap 'rm -rf "$dir"' EXIT
install -m 0755 "$bin" "$dir/unit"
install -d -m 1777 "$dir/tmp"
chmod 0755 "$dir"
if [ "$(id -u)" = 0 ]; then
  cd "$dir" && HOME="$dir/tmp" TMPDIR="$dir/tmp" \
    setpriv --reuid=65534 --regid=65534 --clear-groups ./unit -q
else
  cd "$dir" && TMPDIR="$dir/tmp" ./unit -q
fi
