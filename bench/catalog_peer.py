#!/usr/bin/env python3
"""Peer for bench/catalog.sh: the same catalog loaded and filtered with PyYAML's libyaml
(C) loader, the fastest YAML reader at hand (opm is a Go binary outside the package
registries this machine reaches, so it cannot be the peer here).

It does less than ferry's filter, so the comparison favours it: heads only is "every channel
entry that no other entry replaces or skips" (no upgrade-graph fill, no dependency resolution,
no default-channel checks); "all packages full" keeps every document. Both write the result as
JSON, as ferry writes index.json (YAML 1.1 timestamps, which the safe loader turns into dates,
written back as strings). Prints wall time per step and peak RSS.

usage: catalog_peer.py [--generate N] DIR
"""

import json
import os
import resource
import sys
import time

import yaml

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def files_of(root):
    out = {}
    for d, _, names in os.walk(root):
        for n in sorted(names):
            p = os.path.join(d, n)
            with open(p, encoding="utf-8") as f:
                out[os.path.relpath(p, root)] = f.read()
    return out


def generate(files, copies):
    """The same renaming as the Rust bench (crates/ferry-catalog/examples/catalog_bench.rs)."""
    names = set()
    for text in files.values():
        for doc in yaml.load_all(text, Loader=Loader):
            if isinstance(doc, dict) and doc.get("schema") == "olm.package":
                names.add(doc["name"])
    big = {}
    for i in range(copies):
        for path, text in files.items():
            for n in names:
                c = f"{n}-copy{i}"
                text = (
                    text.replace(f"package: {n}\n", f"package: {c}\n")
                    .replace(f"name: {n}\n", f"name: {c}\n")
                    .replace(f"packageName: {n}\n", f"packageName: {c}\n")
                    .replace(f"name: {n}.", f"name: {c}.")
                    .replace(f"replaces: {n}.", f"replaces: {c}.")
                    .replace(f"- {n}.v", f"- {c}.v")
                )
            big[f"copy{i}/{path}"] = text
    return big


def main():
    args = sys.argv[1:]
    copies = 1
    if len(args) == 3 and args[0] == "--generate":
        copies, root = int(args[1]), args[2]
    elif len(args) == 1:
        root = args[0]
    else:
        sys.exit("usage: catalog_peer.py [--generate N] DIR")
    files = files_of(root)
    if copies > 1:
        files = generate(files, copies)
        print(f"generated: {copies} copies, {sum(len(t.encode()) for t in files.values()) / 1e6:.1f} MB of YAML")
    t = time.monotonic()
    docs = []
    for text in files.values():
        docs.extend(d for d in yaml.load_all(text, Loader=Loader) if d is not None)
    load = time.monotonic() - t
    bundles = [d for d in docs if d.get("schema") == "olm.bundle"]
    packages = [d for d in docs if d.get("schema") == "olm.package"]
    print(f"packages {len(packages)}, bundles {len(bundles)}, load {load:.2f} s")

    t = time.monotonic()
    heads = set()
    for ch in (d for d in docs if d.get("schema") == "olm.channel"):
        entries = ch.get("entries") or []
        replaced = set()
        for e in entries:
            if e.get("replaces"):
                replaced.add(e["replaces"])
            replaced.update(e.get("skips") or [])
        heads.update((ch["package"], e["name"]) for e in entries if e["name"] not in replaced)
    kept = [b for b in bundles if (b.get("package"), b.get("name")) in heads]
    out = "".join(json.dumps(b, indent=4, default=str) + "\n" for b in kept)
    print(f"heads only: {len(kept)} bundles kept, {time.monotonic() - t:.3f} s")

    t = time.monotonic()
    out = "".join(json.dumps(d, indent=4, default=str) + "\n" for d in docs)
    print(
        f"all packages full: {len(bundles)} bundles, {time.monotonic() - t:.3f} s "
        f"(+ index.json {len(out.encode()) / 1e6:.1f} MB written)"
    )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
