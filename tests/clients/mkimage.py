#!/usr/bin/python3
"""mkimage.py OUTDIR WASM: the client tests' images, made from Debian's /bin/busybox and the
WebAssembly module WASM (tool.wasm, compiled by wat2wasm), with no registry.

Writes:
  OUTDIR/rootfs.tar  a plain busybox root filesystem, for `docker import` / `podman import`
  OUTDIR/wasm.tar    a root filesystem holding only /tool.wasm, for `podman import`
  OUTDIR/oci.tar     an OCI image layout (index.json, oci-layout, blobs/sha256/...) holding
                     three images, for `ctr image import`:
                       docker.io/rune-test/busybox:latest  (Cmd: sh)
                       docker.io/rune-test/pause:latest    (Cmd: sleep, the CRI sandbox image,
                                                            on the busybox layer)
                       docker.io/rune-test/wasm:latest     (the wasm layer, Cmd: /tool.wasm
                                                            args hello from wasm; its manifest
                                                            annotated module.wasm.image/variant
                                                            compat-smart, as wasm images are)
"""
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import time

BUSYBOX = "/bin/busybox"
BUSYBOX_IMAGE = "docker.io/rune-test/busybox:latest"
PAUSE_IMAGE = "docker.io/rune-test/pause:latest"
WASM_IMAGE = "docker.io/rune-test/wasm:latest"
WASM_CMD = ["/tool.wasm", "args", "hello from wasm"]
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MTIME = 1700000000  # fixed, so the layer (and its digest) is the same every time

PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
GROUP = "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n"


def _info(name, kind, mode, size=0, target=""):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.size, ti.mtime = kind, mode, size, MTIME
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    ti.linkname = target
    return ti


def rootfs_tar():
    """The busybox root filesystem as an uncompressed tar (bytes)."""
    if not os.access(BUSYBOX, os.X_OK):
        sys.exit(f"mkimage: {BUSYBOX} missing: apt-get install busybox-static")
    applets = subprocess.run([BUSYBOX, "--list"], check=True, capture_output=True,
                             text=True).stdout.split()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in ("bin", "dev", "etc", "proc", "root", "run", "sys", "tmp", "var", "var/tmp"):
            tar.addfile(_info(d, tarfile.DIRTYPE, 0o1777 if d.endswith("tmp") else 0o755))
        data = open(BUSYBOX, "rb").read()
        tar.addfile(_info("bin/busybox", tarfile.REGTYPE, 0o755, len(data)), io.BytesIO(data))
        for a in sorted(set(applets)):
            if a != "busybox":
                tar.addfile(_info(f"bin/{a}", tarfile.SYMTYPE, 0o777, target="busybox"))
        for name, text in (("etc/passwd", PASSWD), ("etc/group", GROUP)):
            b = text.encode()
            tar.addfile(_info(name, tarfile.REGTYPE, 0o644, len(b)), io.BytesIO(b))
    return buf.getvalue()


def wasm_tar(module):
    """A root filesystem holding only /tool.wasm (and the directories a container needs)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in ("dev", "etc", "proc", "sys", "tmp"):
            tar.addfile(_info(d, tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755))
        data = open(module, "rb").read()
        tar.addfile(_info("tool.wasm", tarfile.REGTYPE, 0o644, len(data)), io.BytesIO(data))
    return buf.getvalue()


def _blob(blobs, data, media_type):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs[digest] = data
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def oci_tar(layer, wasm_layer):
    """An OCI image layout tar with the busybox, pause and wasm images (bytes)."""
    blobs = {}
    busybox = _blob(blobs, layer, "application/vnd.oci.image.layer.v1.tar")
    wasm = _blob(blobs, wasm_layer, "application/vnd.oci.image.layer.v1.tar")
    manifests = []
    for name, cmd, layer_desc in ((BUSYBOX_IMAGE, ["sh"], busybox),
                                  (PAUSE_IMAGE, ["/bin/sleep", "2147483647"], busybox),
                                  (WASM_IMAGE, WASM_CMD, wasm)):
        config = {
            "created": "2023-11-14T22:13:20Z",
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": [PATH_ENV], "Cmd": cmd, "WorkingDir": "/"},
            "rootfs": {"type": "layers", "diff_ids": [layer_desc["digest"]]},
            "history": [{"created": "2023-11-14T22:13:20Z", "created_by": "mkimage.py"}],
        }
        config_desc = _blob(blobs, json.dumps(config, sort_keys=True).encode(),
                            "application/vnd.oci.image.config.v1+json")
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": config_desc, "layers": [layer_desc]}
        if name == WASM_IMAGE:
            manifest["annotations"] = {"module.wasm.image/variant": "compat-smart"}
        desc = _blob(blobs, json.dumps(manifest, sort_keys=True).encode(),
                     "application/vnd.oci.image.manifest.v1+json")
        # containerd names an imported image after io.containerd.image.name.
        desc["annotations"] = {"io.containerd.image.name": name,
                               "org.opencontainers.image.ref.name": name.rsplit(":", 1)[1]}
        desc["platform"] = {"architecture": "amd64", "os": "linux"}
        manifests.append(desc)
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": manifests}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add(name, data):
            tar.addfile(_info(name, tarfile.REGTYPE, 0o644, len(data)), io.BytesIO(data))
        add("oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        add("index.json", json.dumps(index).encode())
        tar.addfile(_info("blobs", tarfile.DIRTYPE, 0o755))
        tar.addfile(_info("blobs/sha256", tarfile.DIRTYPE, 0o755))
        for digest, data in blobs.items():
            add("blobs/sha256/" + digest.split(":", 1)[1], data)
    return buf.getvalue()


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: mkimage.py OUTDIR WASM")
    out, module = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    layer, wasm_layer = rootfs_tar(), wasm_tar(module)
    for name, data in (("rootfs.tar", layer), ("wasm.tar", wasm_layer),
                       ("oci.tar", oci_tar(layer, wasm_layer))):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
