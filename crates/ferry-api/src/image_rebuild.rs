//! Pushing a rebuilt image (the filtered catalog, the graph-data image): blobs copied from the
//! source and verified as they stream, the built layers pushed from their files, then the new
//! config and manifest by digest. Operators and the release graph image share it.

use ferry_imagebuild::{rebuild_image, BuiltLayer, ConfigEdit};
use ferry_types::media::ManifestView;
use ferry_types::{BlobStream, Digest, Error, ImageDestination, ImageSource, Manifest, Result, Sha256Hasher};
use futures::StreamExt;
use std::sync::{Arc, Mutex};

/// A blob stream that fails at its end when the bytes do not hash to `expected`.
pub(crate) fn verified(body: BlobStream, expected: Digest, what: String) -> BlobStream {
    let hasher = Arc::new(Mutex::new(Some(Sha256Hasher::new())));
    let h2 = hasher.clone();
    let checked = body.map(move |chunk| {
        if let Ok(c) = &chunk {
            if let Some(h) = h2.lock().expect("hasher").as_mut() {
                h.update(c);
            }
        }
        chunk
    });
    let tail = futures::stream::once(async move {
        let got = hasher.lock().expect("hasher").take().map(|h| h.finish());
        match got {
            Some(d) if d == expected => None,
            Some(d) => Some(Err(std::io::Error::other(format!(
                "{what}: digest mismatch: expected {expected}, got {d}"
            )))),
            None => None,
        }
    })
    .filter_map(|x| async move { x });
    Box::pin(checked.chain(tail))
}

pub(crate) async fn copy_blob(
    src: &dyn ImageSource,
    src_repo: &str,
    dest: &dyn ImageDestination,
    dest_repo: &str,
    d: &Digest,
    size: u64,
) -> Result<()> {
    if dest.has_blob(dest_repo, d).await? {
        return Ok(());
    }
    let (_, body) = src.get_blob(src_repo, d).await?;
    dest.put_blob(
        dest_repo,
        d,
        Some(size),
        verified(body, d.clone(), format!("{src_repo} blob")),
    )
    .await
}

pub(crate) async fn put_file_blob(dest: &dyn ImageDestination, repo: &str, l: &BuiltLayer) -> Result<()> {
    if dest.has_blob(repo, &l.digest).await? {
        return Ok(());
    }
    let f = tokio::fs::File::from_std(l.open()?);
    let body: BlobStream = Box::pin(tokio_util::io::ReaderStream::with_capacity(f, 1 << 20));
    dest.put_blob(repo, &l.digest, Some(l.size), body).await
}

pub(crate) async fn get_config(src: &dyn ImageSource, repo: &str, d: &Digest) -> Result<Vec<u8>> {
    let (_, mut body) = src.get_blob(repo, d).await?;
    let mut buf = Vec::new();
    while let Some(c) = body.next().await {
        buf.extend_from_slice(&c.map_err(|e| Error::io(format!("{repo} config {d}"), e))?);
    }
    if Digest::of(&buf) != *d {
        return Err(Error::DigestMismatch {
            what: format!("{repo} config"),
            expected: d.to_string(),
            actual: Digest::of(&buf).to_string(),
        });
    }
    Ok(buf)
}

/// Rebuild one platform image: copy its layers, push the new layers, config and manifest (by
/// digest). Returns the new manifest. `mount_from`: the repository of the destination that
/// already holds the source's layers (the graph image's base was mirrored there), tried as a
/// cross-repository mount before any copy; `None` when the source is elsewhere (a mount
/// attempt would only open an upload session the destination then keeps).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn rebuild_platform(
    src: &dyn ImageSource,
    src_repo: &str,
    manifest: &Manifest,
    dest: &dyn ImageDestination,
    dest_repo: &str,
    layers: &[&BuiltLayer],
    edit: &ConfigEdit,
    mount_from: Option<&str>,
) -> Result<Manifest> {
    let view = ManifestView::parse(&manifest.bytes)
        .map_err(|e| Error::Internal(format!("{src_repo}@{}: {e}", manifest.digest)))?;
    for l in &view.layers {
        let d = Digest::parse(&l.digest).map_err(|e| Error::Internal(e.to_string()))?;
        if let Some(from) = mount_from {
            if dest.has_blob(dest_repo, &d).await? || dest.mount_blob(dest_repo, from, &d).await? {
                continue;
            }
        }
        copy_blob(src, src_repo, dest, dest_repo, &d, l.size).await?;
    }
    let cdesc = view
        .config
        .as_ref()
        .ok_or_else(|| Error::Internal(format!("{src_repo}@{}: no config", manifest.digest)))?;
    let cd = Digest::parse(&cdesc.digest).map_err(|e| Error::Internal(e.to_string()))?;
    let config = get_config(src, src_repo, &cd).await?;
    let rebuilt = rebuild_image(&manifest.bytes, &manifest.media_type, &config, layers, edit)?;
    for l in layers {
        put_file_blob(dest, dest_repo, l).await?;
    }
    let cfg_len = rebuilt.config.len() as u64;
    let body: BlobStream = Box::pin(futures::stream::once(
        async move { Ok(bytes::Bytes::from(rebuilt.config)) },
    ));
    if !dest.has_blob(dest_repo, &rebuilt.config_digest).await? {
        dest.put_blob(dest_repo, &rebuilt.config_digest, Some(cfg_len), body)
            .await?;
    }
    dest.put_manifest(dest_repo, &rebuilt.manifest.digest.to_string(), &rebuilt.manifest)
        .await?;
    Ok(rebuilt.manifest)
}
