#!/usr/bin/env python3
"""The layer rule of rune-core: a module imports only from modules in layers below its own.

Lists every `crate::<module>` a top-level module of core/src uses (in `use` lines and paths,
`use crate::{a, b::c}` too; not in test code: `*_tests.rs`, `testing.rs`, `*_fake.rs` and
`#[cfg(test)] mod tests` at the end of a file), and fails on an edge that goes up a layer or
stays inside one. `--graph` prints the edges.
"""
import os
import re
import sys

# Bottom to top. A module may use the modules of lower layers only.
LAYERS = [
    ["error"],
    ["sys"],
    ["files", "procfs", "mountinfo", "tty", "netdev", "hook_output", "program"],
    ["namespaces"],
    ["cgroups", "security", "hooks"],
    ["rootfs"],
    ["spec"],
    ["ipc"],
    ["workload"],
    ["process"],
    ["store"],
    ["container"],
]

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "core", "src")


def layer_of(mod):
    for i, layer in enumerate(LAYERS):
        if mod in layer:
            return i
    return None


def used_modules(text, known):
    text = text.split("#[cfg(test)]\nmod tests", 1)[0]
    text = re.sub(r"//[^\n]*", "", text)
    found = set(re.findall(r"\bcrate::([a-z_]+)", text))
    for group in re.findall(r"\bcrate::\{([^}]*)\}", text, re.S):
        found.update(re.findall(r"(?:^|,)\s*([a-z_]+)", group))
    # err!/bail! expand to crate::error.
    return {m for m in found if m in known}


def main():
    known = {n[:-3] if n.endswith(".rs") else n for n in os.listdir(ROOT)}
    known -= {"lib", "bin"}
    edges = {}
    for dirpath, _, files in os.walk(ROOT):
        rel = os.path.relpath(dirpath, ROOT)
        if rel.split(os.sep)[0] == "bin":
            continue
        for f in files:
            if not f.endswith(".rs") or f.endswith("_tests.rs") or f in ("testing.rs",) or f.endswith("_fake.rs"):
                continue
            path = os.path.join(dirpath, f)
            top = (rel.split(os.sep)[0] if rel != "." else f[:-3])
            if top == "lib":
                continue
            with open(path) as fh:
                for m in used_modules(fh.read(), known):
                    if m != top:
                        edges.setdefault(top, {}).setdefault(m, []).append(os.path.relpath(path, ROOT))
    if "--graph" in sys.argv:
        for a in sorted(edges):
            print(a, "->", " ".join(sorted(edges[a])))
    bad = []
    for a, targets in sorted(edges.items()):
        la = layer_of(a)
        if la is None:
            bad.append(f"{a}: not in any layer (scripts/layers.py)")
            continue
        for b, files in sorted(targets.items()):
            lb = layer_of(b)
            if lb is None or lb >= la:
                bad.append(f"{a} -> {b} ({', '.join(sorted(set(files)))})")
    for b in bad:
        print("layers: up or sideways:", b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
