#!/usr/bin/env python3
"""Writes a small, real OCI image layout (one random 2 MiB layer, a config, a manifest) so the
desktop end-to-end test can seed a local registry with `skopeo copy oci:DIR:TAG docker://...`.
Usage: make-oci-image.py DIR TAG"""
import gzip, hashlib, io, json, os, sys, tarfile

out, tag = sys.argv[1], sys.argv[2]
blobs = os.path.join(out, "blobs", "sha256")
os.makedirs(blobs, exist_ok=True)

def put(data: bytes) -> str:
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return d

raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w") as t:
    payload = os.urandom(2 * 1024 * 1024)
    info = tarfile.TarInfo("data/payload.bin")
    info.size = len(payload)
    t.addfile(info, io.BytesIO(payload))
diff_id = hashlib.sha256(raw.getvalue()).hexdigest()
layer = gzip.compress(raw.getvalue(), mtime=0)
layer_d = put(layer)
config = json.dumps({
    "architecture": "amd64", "os": "linux",
    "config": {"Cmd": ["/bin/true"]},
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
