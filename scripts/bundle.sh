#!/usr/bin/env bash
# bundle.sh DIR [ARGS...]: makes an OCI bundle in DIR with a busybox rootfs (from Debian's
# busybox-static) and the config `rune spec` writes, running ARGS (default: sh).
set -euo pipefail
dir=$1; shift
rune=${RUNE:-rune}
[ -x /bin/busybox ] || { echo "bundle.sh: /bin/busybox missing: apt-get install busybox-static" >&2; exit 1; }
rm -rf "$dir"; mkdir -p "$dir/rootfs"/{bin,proc,sys,dev,etc,tmp,root}
cp /bin/busybox "$dir/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$dir/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$dir/rootfs/etc/passwd"
echo 'root:x:0:' > "$dir/rootfs/etc/group"
# ENCLAVE_LIB=/path/to/pal.so makes it an enclave bundle (enclave.type sim).
if [ -n "${ENCLAVE_LIB:-}" ]; then
  "$rune" spec --bundle "$dir" --enclave-type sim --enclave-path "$ENCLAVE_LIB"
else
  "$rune" spec --bundle "$dir"
fi
python3 - "$dir/config.json" "$@" <<'PY'
import json, sys
path, args = sys.argv[1], sys.argv[2:]
c = json.load(open(path))
c["process"]["terminal"] = False
# The version older runtimes (runc 1.1, crun 1.8) accept, so they can run the same bundle.
c["ociVersion"] = "1.0.2"
if args:
    c["process"]["args"] = args
json.dump(c, open(path, "w"), indent=2)
PY
