//! Can oc-mirror v1 (4.11) publish Ferry's media? oc-mirror cannot run here (no Go toolchain),
//! so `v1` below re-implements, independently of Ferry's reader (plain `tar` crate), exactly
//! what its publish path does with the parts, citing the source (openshift/oc-mirror branch
//! release-4.11, vendored github.com/mholt/archiver/v3 v3.5.0). The tests then run that
//! reader over sets written by `ArchiveWriter`, and Ferry's own reader over the same sets and
//! over oc-mirror's fixture archives.

use bytes::Bytes;
use ferry_archive::*;
use ferry_types::{Digest, ImageDestination, Manifest};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

mod v1 {
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};

    /// Go's `path.Clean` for the relative names tar entries have.
    pub fn clean(p: &str) -> String {
        let mut out: Vec<&str> = Vec::new();
        for c in p.split('/') {
            match c {
                "" | "." => {}
                ".." => {
                    out.pop();
                }
                c => out.push(c),
            }
        }
        if out.is_empty() {
            ".".into()
        } else {
            out.join("/")
        }
    }

    /// Go's `filepath.Rel` for relative paths.
    fn rel(base: &str, target: &str) -> String {
        let b: Vec<String> = clean(base).split('/').filter(|c| *c != ".").map(String::from).collect();
        let t: Vec<String> = clean(target)
            .split('/')
            .filter(|c| *c != ".")
            .map(String::from)
            .collect();
        let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
        let mut out: Vec<String> = vec!["..".into(); b.len() - common];
        out.extend(t[common..].iter().cloned());
        if out.is_empty() {
            ".".into()
        } else {
            out.join("/")
        }
    }

    /// archiver `within` (archiver.go): "..", anywhere in the relative path, means outside.
    fn within(parent: &str, sub: &str) -> bool {
        !rel(parent, sub).contains("..")
    }

    /// `bundle.ReadImageSet` (pkg/bundle/files.go): every `.tar` under `from` (filepath.Walk,
    /// lexical order), every entry name `filepath.Clean`ed → the tar holding it; later tars
    /// overwrite earlier ones.
    pub fn read_image_set(from: &Path) -> HashMap<String, PathBuf> {
        fn walk(d: &Path, out: &mut Vec<PathBuf>) {
            let mut v: Vec<PathBuf> = std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()).collect();
            v.sort();
            for p in v {
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|e| e == "tar") {
                    out.push(p);
                }
            }
        }
        let mut tars = Vec::new();
        walk(from, &mut tars);
        assert!(!tars.is_empty(), "no archives found in directory {}", from.display());
        let mut files = HashMap::new();
        for t in tars {
            let mut ar = tar::Archive::new(std::fs::File::open(&t).unwrap());
            for e in ar.entries().unwrap() {
                let e = e.unwrap();
                let name = clean(&String::from_utf8_lossy(&e.path_bytes()));
                files.insert(name, t.clone());
            }
        }
        files
    }

    /// archiver `Tar.Extract(source, target, destination)` (tar.go): walk `source` from its
    /// start; a directory entry equal to `target` makes it a folder extraction, which ends at
    /// the first entry outside it; a file target ends after the file. Returns what it wrote,
    /// relative to `dest`.
    fn extract(source: &Path, target: &str, dest: &Path) -> Vec<String> {
        let target = clean(target);
        let mut target_dir: Option<String> = None;
        let mut got = Vec::new();
        let mut ar = tar::Archive::new(std::fs::File::open(source).unwrap());
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let raw = String::from_utf8_lossy(&e.path_bytes()).to_string();
            let name = clean(&raw);
            let kind = e.header().entry_type();
            if kind.is_dir() && target == name {
                target_dir = Some(match name.rsplit_once('/') {
                    Some((d, _)) => d.to_string(),
                    None => ".".into(),
                });
            }
            if within(&target, &raw) {
                let end = rel(target_dir.as_deref().unwrap_or(""), &raw);
                let out = dest.join(&end);
                if kind.is_dir() {
                    std::fs::create_dir_all(&out).unwrap();
                } else {
                    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
                    if kind == tar::EntryType::Symlink {
                        let link = e.link_name().unwrap().unwrap().to_path_buf();
                        let _ = std::fs::remove_file(&out);
                        std::os::unix::fs::symlink(link, &out).unwrap();
                    } else {
                        let mut f = std::fs::File::create(&out).unwrap();
                        std::io::copy(&mut e, &mut f).unwrap();
                    }
                }
                got.push(end);
                if target_dir.is_none() {
                    break;
                }
            } else if target_dir.is_some() {
                break;
            }
        }
        got
    }

    /// `unpack` (pkg/cli/mirror/publish.go): look the name up, extract, then `os.Stat` it.
    pub fn unpack(files: &HashMap<String, PathBuf>, name: &str, dest: &Path) -> Result<Vec<String>, String> {
        let Some(part) = files.get(name) else {
            return Err(format!("file {name} not found in archive"));
        };
        let got = extract(part, name, dest);
        if std::fs::symlink_metadata(dest.join(name)).is_err() {
            return Err(format!("stat {}: no such file or directory", dest.join(name).display()));
        }
        Ok(got)
    }
}

fn data(seed: u64, len: usize) -> Bytes {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    Bytes::from(v)
}

struct Img {
    repo: &'static str,
    tag: &'static str,
    blobs: Vec<Bytes>,
    manifest: Manifest,
}

fn image(repo: &'static str, tag: &'static str, seeds: &[(u64, usize)]) -> Img {
    let blobs: Vec<Bytes> = seeds.iter().map(|(s, l)| data(*s, *l)).collect();
    let desc = |b: &Bytes, mt: &str| serde_json::json!({"mediaType": mt, "size": b.len(), "digest": Digest::of(b).to_string()});
    let m = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": desc(&blobs[0], "application/vnd.oci.image.config.v1+json"),
        "layers": blobs[1..].iter().map(|b| desc(b, "application/vnd.oci.image.layer.v1.tar")).collect::<Vec<_>>()});
    let manifest = Manifest::new(
        Bytes::from(serde_json::to_vec(&m).unwrap()),
        "application/vnd.oci.image.manifest.v1+json",
    );
    Img {
        repo,
        tag,
        blobs,
        manifest,
    }
}

/// Metadata with one association per image, the shape oc-mirror's publish walks.
fn metadata(imgs: &[Img]) -> Vec<u8> {
    let assocs: Vec<serde_json::Value> = imgs
        .iter()
        .map(|i| {
            serde_json::json!({"name": format!("quay.io/{}:{}", i.repo, i.tag), "path": i.repo,
                "id": i.manifest.digest.to_string(), "tagSymlink": i.tag, "type": "generic",
                "layerDigests": i.blobs.iter().map(|b| Digest::of(b).to_string()).collect::<Vec<_>>()})
        })
        .collect();
    serde_json::to_vec(
        &serde_json::json!({"kind": "Metadata", "apiVersion": "mirror.openshift.io/v1alpha2",
        "uid": "8d1d0c8e-0000-4000-8000-0000000000c4", "singleUse": false,
        "pastMirror": {"timestamp": 1, "sequence": 1, "mirror": {}, "associations": assocs},
        "pastAssociations": assocs}),
    )
    .unwrap()
}

async fn write_set(dir: &Path, max: u64, imgs: &[Img], extras: &BTreeMap<String, PathBuf>) -> WriterStats {
    let w = ArchiveWriter::create(WriterOptions {
        dir: dir.to_path_buf(),
        sequence: 1,
        uid: "8d1d0c8e-0000-4000-8000-0000000000c4".into(),
        max_part_bytes: max,
        strict: false,
        metadata_json: metadata(imgs),
        plan_key: "p".into(),
        skip_digests: HashSet::new(),
    })
    .unwrap();
    // Extra files are added while images are still being written, as the planners will.
    let mut pending = extras.iter();
    for i in imgs {
        if let Some((name, src)) = pending.next() {
            w.add_file(name, src).await.unwrap();
        }
        for b in &i.blobs {
            let d = Digest::of(b);
            let body = futures::stream::iter(vec![Ok::<_, std::io::Error>(b.clone())]);
            w.put_blob(i.repo, &d, Some(b.len() as u64), Box::pin(body))
                .await
                .unwrap();
        }
        w.put_manifest(i.repo, &i.manifest.digest.to_string(), &i.manifest)
            .await
            .unwrap();
        w.put_manifest(i.repo, i.tag, &i.manifest).await.unwrap();
    }
    for (name, src) in pending {
        w.add_file(name, src).await.unwrap();
    }
    w.finish().await.unwrap()
}

/// Everything oc-mirror 4.11's `publish` unpacks from a first sequence, in its order
/// (`MirrorOptions.Publish`, pkg/cli/mirror/publish.go). Returns the files of each optional
/// folder it found (None: "not found in archive", which publish skips).
fn v1_publish(media: &Path, imgs: &[Img]) -> BTreeMap<&'static str, Option<Vec<String>>> {
    let files = v1::read_image_set(media);
    let tmp = tempfile::tempdir().unwrap();
    // handleMetadata: unpack(config.MetadataBasePath) and decode it.
    v1::unpack(&files, "publish/.metadata.json", tmp.path()).unwrap();
    let md: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("publish/.metadata.json")).unwrap()).unwrap();
    // "Unpacking any provided Helm charts": unpack(config.HelmDir, o.OutputDir) — an error
    // here ends the publish ("file charts not found in archive" was the reported failure).
    let out = tempfile::tempdir().unwrap();
    let mut found = BTreeMap::new();
    let charts = v1::unpack(&files, "charts", out.path()).unwrap_or_else(|e| panic!("oc-mirror publish: {e}"));
    found.insert("charts", Some(charts));
    // processMirroredImages: for each association, the manifest by id, each layer as
    // blobs/<digest> (absent → fetched from the target, impossible for a first sequence),
    // and the tag symlink.
    let assocs = md["pastMirror"]["associations"].as_array().unwrap();
    assert_eq!(assocs.len(), imgs.len());
    for a in assocs {
        let unpack_dir = tempfile::tempdir().unwrap();
        let path = a["path"].as_str().unwrap();
        let manifests = format!("v2/{path}/manifests");
        v1::unpack(
            &files,
            &format!("{manifests}/{}", a["id"].as_str().unwrap()),
            unpack_dir.path(),
        )
        .unwrap();
        for l in a["layerDigests"].as_array().unwrap() {
            let image_path = unpack_dir.path().join("v2").join(path);
            let l = l.as_str().unwrap();
            v1::unpack(&files, &format!("blobs/{l}"), &image_path).unwrap();
            assert_eq!(
                Digest::of(&std::fs::read(image_path.join("blobs").join(l)).unwrap()).to_string(),
                l
            );
        }
        let tag = a["tagSymlink"].as_str().unwrap();
        v1::unpack(&files, &format!("{manifests}/{tag}"), unpack_dir.path()).unwrap();
        let by_tag = std::fs::read(unpack_dir.path().join(&manifests).join(tag)).unwrap();
        assert_eq!(Digest::of(&by_tag).to_string(), a["id"].as_str().unwrap());
    }
    // unpackReleaseSignatures, then processCustomImages: unpackCatalog, unpackRelease — all
    // three treat "not found" as "nothing to do".
    for folder in ["release-signatures", "catalogs", "cincinnati"] {
        let d = tempfile::tempdir().unwrap();
        found.insert(
            folder,
            match v1::unpack(&files, folder, d.path()) {
                Ok(got) => {
                    for f in &got {
                        let p = d.path().join(f);
                        assert!(p.exists(), "{folder}: {f} listed but not extracted");
                    }
                    Some(got)
                }
                Err(e) => {
                    assert!(e.contains("not found in archive"), "{e}");
                    None
                }
            },
        );
    }
    found
}

fn sample_images() -> Vec<Img> {
    vec![
        image("ns/app", "v1", &[(1, 300), (2, 40_000), (3, 30_000)]),
        image("ns/other", "latest", &[(4, 200), (5, 25_000), (6, 50_000)]),
        image("tools/cli", "4.11", &[(7, 150), (8, 60_000)]),
    ]
}

#[tokio::test]
async fn oc_mirror_v1_reader_accepts_ferry_media_with_every_extra_folder() {
    let src = tempfile::tempdir().unwrap();
    let mut extras = BTreeMap::new();
    let mut add = |name: &str, len: usize, seed: u64| {
        let p = src.path().join(format!("f{seed}"));
        std::fs::write(&p, data(seed, len)).unwrap();
        extras.insert(name.to_string(), p);
    };
    let cat = "catalogs/registry.redhat.io/redhat/redhat-operator-index/v4.11";
    add(&format!("{cat}/index/index.json"), 9_000, 100);
    add(&format!("{cat}/layout/oci-layout"), 30, 101);
    add(&format!("{cat}/layout/index.json"), 400, 102);
    // A catalog layout bigger than archiveSize on its own: the folder gets a part of its own.
    add(&format!("{cat}/layout/blobs/sha256/{}", "a".repeat(64)), 70_000, 103);
    add("charts/podinfo-6.5.0.tgz", 12_000, 104);
    add("charts/podinfo-6.4.1.tgz", 11_000, 105);
    add("release-signatures/signature-sha256-3f0a1c2b3d4e5f60.json", 600, 106);
    add("cincinnati/cincinnati-graph-data.tar.gz", 20_000, 107);
    let imgs = sample_images();
    let dir = tempfile::tempdir().unwrap();
    let stats = write_set(dir.path(), 64 << 10, &imgs, &extras).await;
    assert!(stats.parts.len() >= 4, "split into {} parts", stats.parts.len());
    assert_eq!(stats.files_written, extras.len() as u64);

    let found = v1_publish(dir.path(), &imgs);
    // Each folder came out whole: every file, byte for byte.
    let tmp = tempfile::tempdir().unwrap();
    for (folder, got) in &found {
        let got = got.clone().unwrap_or_else(|| panic!("{folder} not found"));
        let expected: Vec<&String> = extras.keys().filter(|k| k.starts_with(&format!("{folder}/"))).collect();
        for e in &expected {
            assert!(
                got.contains(e),
                "{folder}: oc-mirror would not extract {e} (got {got:?})"
            );
        }
    }
    // Ferry reads the same files back.
    let set = ArchiveSet::open(dir.path()).unwrap();
    verify_set(&set).unwrap();
    let listed = set.files("charts/");
    assert_eq!(listed, vec!["charts/podinfo-6.4.1.tgz", "charts/podinfo-6.5.0.tgz"]);
    assert_eq!(set.files("catalogs/").len(), 4);
    for (name, src) in &extras {
        let out = tmp.path().join("x").join(name);
        set.extract_file(name, &out).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(src).unwrap(), "{name}");
    }
    let err = set
        .extract_file("charts/absent-1.0.0.tgz", &tmp.path().join("y"))
        .unwrap_err();
    assert!(err.to_string().contains("charts/absent-1.0.0.tgz"), "{err}");
}

#[tokio::test]
async fn oc_mirror_v1_reader_accepts_ferry_media_without_extra_files() {
    let imgs = sample_images();
    let dir = tempfile::tempdir().unwrap();
    write_set(dir.path(), 1 << 30, &imgs, &BTreeMap::new()).await;
    let found = v1_publish(dir.path(), &imgs);
    // As in oc-mirror's own sets: charts/ and release-signatures/ exist (empty), catalogs/
    // and cincinnati/ do not (their presence would make publish rebuild images from nothing).
    assert_eq!(found["charts"], Some(vec!["charts".to_string()]));
    assert_eq!(
        found["release-signatures"],
        Some(vec!["release-signatures".to_string()])
    );
    assert_eq!(found["catalogs"], None);
    assert_eq!(found["cincinnati"], None);
    let set = ArchiveSet::open(dir.path()).unwrap();
    assert!(set.files("charts/").is_empty());
    verify_set(&set).unwrap();
}

#[tokio::test]
async fn extra_file_paths_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let w = ArchiveWriter::create(WriterOptions {
        dir: dir.path().to_path_buf(),
        sequence: 1,
        uid: "u".into(),
        max_part_bytes: 1 << 30,
        strict: false,
        metadata_json: metadata(&[]),
        plan_key: "p".into(),
        skip_digests: HashSet::new(),
    })
    .unwrap();
    let f = dir.path().join("chart.tgz");
    std::fs::write(&f, b"x").unwrap();
    for bad in [
        "/charts/a.tgz",
        "charts/../v2/a",
        "v2/ns/app/manifests/x",
        "charts",
        "charts//a",
        "publish/.metadata.json",
    ] {
        let e = w.add_file(bad, &f).await.unwrap_err().to_string();
        assert!(e.contains(bad), "{bad}: {e}");
    }
    let e = w
        .add_file("charts/a.tgz", &dir.path().join("missing"))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing") && e.contains("charts/a.tgz"), "{e}");
    w.add_file("charts/a.tgz", &f).await.unwrap();
    w.add_file("charts/a.tgz", &f).await.unwrap();
    let g = dir.path().join("other.tgz");
    std::fs::write(&g, b"y").unwrap();
    assert!(w.add_file("charts/a.tgz", &g).await.is_err());
    assert!(w.add_file("charts/a.tgz/b", &g).await.is_err());
    // A source changed after it was added is caught when it is packed.
    std::fs::write(&f, b"longer now").unwrap();
    let e = w.finish().await.unwrap_err().to_string();
    assert!(e.contains("chart.tgz") && e.contains("changed"), "{e}");
}

/// Ferry's reader keeps reading oc-mirror's own archives (and their directory entries).
#[test]
fn ferry_reads_oc_mirror_fixture_archives() {
    let Some(fx) = ferry_testkit::fixtures() else { return };
    let base: PathBuf = fx.join("oc-mirror/oc-mirror/v1/pkg/cli/mirror/testdata/artifacts");
    for (name, seq) in [("testbundle_seq2.tar", 2), ("testbundle_seq3.tar", 3)] {
        let set = ArchiveSet::open(&base.join(name)).unwrap();
        assert_eq!(set.sequence(), Some(seq));
        assert_eq!(set.files("publish/"), vec!["publish/.metadata.json"]);
        assert!(set.files("charts/").is_empty());
        let tmp = tempfile::tempdir().unwrap();
        set.extract_file("publish/.metadata.json", &tmp.path().join("m.json"))
            .unwrap();
        let files = v1::read_image_set(&base);
        assert!(files.contains_key("publish/.metadata.json"));
    }
}
