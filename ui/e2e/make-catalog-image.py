#!/usr/bin/env python3
"""Writes a small operator index image as an OCI image layout, shaped as opm builds them: one
layer with a stand-in bin/opm and the file-based catalog under configs/, the label
operators.operatorframework.io.index.configs.v1=/configs, Entrypoint /bin/opm and
Cmd serve /configs. The desktop end-to-end test seeds the source registry with it
(`skopeo copy oci:DIR:TAG docker://...`) so the catalog browser reads a real index image.
Usage: make-catalog-image.py DIR TAG FBC_FILE [FBC_FILE...]  (each FBC file goes to configs/<name>)"""
import gzip, hashlib, io, json, os, sys, tarfile

out, tag, files = sys.argv[1], sys.argv[2], sys.argv[3:]
if not files:
    sys.exit("usage: make-catalog-image.py DIR TAG FBC_FILE [FBC_FILE...]")
blobs = os.path.join(out, "blobs", "sha256")
os.makedirs(blobs, exist_ok=True)

def put(data: bytes) -> str:
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return d

def add(t: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644):
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 0
    t.addfile(info, io.BytesIO(data))

raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w") as t:
    add(t, "bin/opm", b"#!/bin/sh\necho stand-in for opm\n", 0o755)
    for path in files:
        with open(path, "rb") as f:
            add(t, f"configs/{os.path.basename(path)}", f.read())
diff_id = hashlib.sha256(raw.getvalue()).hexdigest()
layer = gzip.compress(raw.getvalue(), mtime=0)
layer_d = put(layer)
config = json.dumps({
    "architecture": "amd64", "os": "linux",
    "config": {
        "Entrypoint": ["/bin/opm"], "Cmd": ["serve", "/configs"],
        "Labels": {"operators.operatorframework.io.index.configs.v1": "/configs"},
    },
    "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff_id}"]},
}).encode()
config_d = put(config)
manifest = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": f"sha256:{config_d}", "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": f"sha256:{layer_d}", "size": len(layer)}],
}).encode()
manifest_d = put(manifest)
with open(os.path.join(out, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": f"sha256:{manifest_d}",
        "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": tag}}]}, f)
print(f"sha256:{manifest_d}")
