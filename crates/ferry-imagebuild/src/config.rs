//! New config and manifest bytes for an image with appended layers, and a new index over
//! rebuilt platform manifests.

use crate::{BuildError, BuiltLayer, Result};
use ferry_types::media::{DOCKER_LIST, DOCKER_V2S2, OCI_INDEX, OCI_MANIFEST};
use ferry_types::{Digest, Manifest};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// What to change in the image config. `None` leaves a field as the base image has it.
#[derive(Debug, Clone, Default)]
pub struct ConfigEdit {
    /// Replaces *all* labels (oc-mirror replaces the catalog's labels rather than merging, so a
    /// stale `…index.configs.v1` or cache label cannot survive).
    pub labels: Option<BTreeMap<String, String>>,
    pub cmd: Option<Vec<String>>,
    /// `Some(None)` removes the entrypoint.
    pub entrypoint: Option<Option<Vec<String>>>,
}

/// A rebuilt single-platform image: the new config blob and manifest.
#[derive(Debug, Clone)]
pub struct Rebuilt {
    pub config: Vec<u8>,
    pub config_digest: Digest,
    pub manifest: Manifest,
}

fn invalid(what: &str, detail: impl Into<String>) -> BuildError {
    BuildError::Invalid {
        what: what.to_string(),
        detail: detail.into(),
    }
}

fn layer_media_type(manifest_media_type: &str) -> Result<&'static str> {
    match manifest_media_type {
        DOCKER_V2S2 => Ok("application/vnd.docker.image.rootfs.diff.tar.gzip"),
        OCI_MANIFEST => Ok("application/vnd.oci.image.layer.v1.tar+gzip"),
        other => Err(invalid(
            "base manifest",
            format!("media type {other:?} cannot be rebuilt; expected {DOCKER_V2S2} or {OCI_MANIFEST} (resolve an index to its platform manifests first)"),
        )),
    }
}

/// Append `layers` to a base image and apply `edit` to its config.
///
/// `manifest_media_type` is the type the registry announced (used when the document has no
/// `mediaType` field). The result keeps the base's manifest type.
pub fn rebuild_image(
    manifest: &[u8],
    manifest_media_type: &str,
    config: &[u8],
    layers: &[&BuiltLayer],
    edit: &ConfigEdit,
) -> Result<Rebuilt> {
    let mut m: Value = serde_json::from_slice(manifest).map_err(|e| invalid("base manifest", e.to_string()))?;
    let mt = m
        .get("mediaType")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or(manifest_media_type)
        .to_string();
    let layer_mt = layer_media_type(&mt)?;
    let mut c: Value = serde_json::from_slice(config).map_err(|e| invalid("base image config", e.to_string()))?;
    let cobj = c
        .as_object_mut()
        .ok_or_else(|| invalid("base image config", "not a JSON object"))?;

    // rootfs.diff_ids and history must grow together (one non-empty history entry per layer).
    let diff_ids = cobj
        .entry("rootfs")
        .or_insert_with(|| json!({"type": "layers", "diff_ids": []}))
        .as_object_mut()
        .map(|r| r.entry("diff_ids").or_insert_with(|| json!([])))
        .and_then(Value::as_array_mut)
        .ok_or_else(|| invalid("base image config", "rootfs.diff_ids is not a list"))?;
    for l in layers {
        diff_ids.push(Value::String(l.diff_id.to_string()));
    }
    if let Some(h) = cobj.entry("history").or_insert_with(|| json!([])).as_array_mut() {
        for l in layers {
            h.push(json!({"created": "1970-01-01T00:00:00Z", "created_by": l.created_by, "comment": "ferry"}));
        }
    }
    let inner = cobj
        .entry("config")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| invalid("base image config", "config is not an object"))?;
    if let Some(labels) = &edit.labels {
        inner.insert("Labels".into(), serde_json::to_value(labels).expect("string map"));
    }
    if let Some(cmd) = &edit.cmd {
        inner.insert("Cmd".into(), json!(cmd));
    }
    if let Some(ep) = &edit.entrypoint {
        match ep {
            Some(ep) => inner.insert("Entrypoint".into(), json!(ep)),
            None => inner.remove("Entrypoint"),
        };
    }
    let config_bytes = serde_json::to_vec(&c).expect("JSON value");
    let config_digest = Digest::of(&config_bytes);

    let mobj = m
        .as_object_mut()
        .ok_or_else(|| invalid("base manifest", "not a JSON object"))?;
    let cdesc = mobj
        .get_mut("config")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| invalid("base manifest", "no config descriptor"))?;
    cdesc.insert("digest".into(), json!(config_digest.to_string()));
    cdesc.insert("size".into(), json!(config_bytes.len()));
    let ls = mobj
        .entry("layers")
        .or_insert_with(|| json!([]))
        .as_array_mut()
        .ok_or_else(|| invalid("base manifest", "layers is not a list"))?;
    for l in layers {
        ls.push(json!({"mediaType": layer_mt, "digest": l.digest.to_string(), "size": l.size}));
    }
    let bytes = serde_json::to_vec(&m).expect("JSON value");
    Ok(Rebuilt {
        config: config_bytes,
        config_digest,
        manifest: Manifest::new(bytes.into(), mt),
    })
}

/// A new index (manifest list) where each child whose digest is a key of `replace` points at
/// the rebuilt manifest instead (platform and annotations kept); a `None` value drops the child
/// (for example a build attestation that describes the old image).
pub fn rebuild_index(index: &[u8], media_type: &str, replace: &BTreeMap<Digest, Option<Manifest>>) -> Result<Manifest> {
    let mut v: Value = serde_json::from_slice(index).map_err(|e| invalid("base index", e.to_string()))?;
    let mt = v
        .get("mediaType")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or(media_type)
        .to_string();
    if mt != OCI_INDEX && mt != DOCKER_LIST {
        return Err(invalid("base index", format!("media type {mt:?} is not an index")));
    }
    let children = v
        .get_mut("manifests")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| invalid("base index", "no manifests list"))?;
    let mut out = Vec::with_capacity(children.len());
    for mut child in std::mem::take(children) {
        let d = child
            .get("digest")
            .and_then(Value::as_str)
            .and_then(|s| Digest::parse(s).ok())
            .ok_or_else(|| invalid("base index", "a child has no valid digest"))?;
        match replace.get(&d) {
            None => out.push(child),
            Some(None) => {}
            Some(Some(m)) => {
                let o = child
                    .as_object_mut()
                    .ok_or_else(|| invalid("base index", "child is not an object"))?;
                o.insert("digest".into(), json!(m.digest.to_string()));
                o.insert("size".into(), json!(m.bytes.len()));
                o.insert("mediaType".into(), json!(m.media_type));
                out.push(child);
            }
        }
    }
    *v.get_mut("manifests").expect("checked") = Value::Array(out);
    let bytes = serde_json::to_vec(&v).expect("JSON value");
    Ok(Manifest::new(bytes.into(), mt))
}
