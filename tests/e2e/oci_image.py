#!/usr/bin/env python3
"""oci_image.py ROOTFS OUT.tar NAME: an OCI image layout archive of ROOTFS
(one uncompressed layer, this machine's architecture) that `ctr image import` takes with no
registry; NAME goes into the io.containerd.image.name annotation."""
import hashlib, io, json, os, platform, sys, tarfile

ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())

rootfs, out, name = sys.argv[1:4]
blobs = {}
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    blobs[d] = data
    return {"digest": "sha256:" + d, "size": len(data)}

buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
    for entry in sorted(os.listdir(rootfs)):
        t.add(os.path.join(rootfs, entry), arcname=entry)
layer = buf.getvalue()
lb = blob(layer)
config = {"architecture": ARCH, "os": "linux",
          "config": {"Env": ["PATH=/bin:/sbin"], "Cmd": ["/bin/sh"], "WorkingDir": "/"},
          "rootfs": {"type": "layers", "diff_ids": [lb["digest"]]}}
cb = blob(json.dumps(config).encode())
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": dict(mediaType="application/vnd.oci.image.config.v1+json", **cb),
            "layers": [dict(mediaType="application/vnd.oci.image.layer.v1.tar", **lb)]}
mb = blob(json.dumps(manifest).encode())
index = {"schemaVersion": 2, "manifests": [dict(
    mediaType="application/vnd.oci.image.manifest.v1+json", **mb,
    platform={"architecture": ARCH, "os": "linux"},
    annotations={"io.containerd.image.name": name,
                 "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1]})]}
def add(t, path, data):
    ti = tarfile.TarInfo(path)
    ti.size = len(data)
    ti.mode = 0o644
    t.addfile(ti, io.BytesIO(data))
with tarfile.open(out, "w") as t:
    add(t, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    add(t, "index.json", json.dumps(index).encode())
    for d, data in blobs.items():
        add(t, "blobs/sha256/" + d, data)
