//! Catalog benchmark: load and filter a file-based catalog (heads only, and every package
//! `full`), printing wall time per step and the process's peak RSS (VmHWM).
//!
//! `cargo run --release -p ferry-catalog --example catalog_bench -- DIR` loads DIR;
//! `… -- --generate N DIR` loads DIR once, then builds an in-memory catalog N times that size
//! (every package copied under N names, its bundles renamed to match) and measures that.
//! Run one mode per process so the peak RSS belongs to it.

use ferry_catalog::{filter, load_dir, load_files, CatalogFilter, PackageFilter};
use std::collections::BTreeMap;
use std::time::Instant;

fn peak_rss_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .map(|k| k / 1024.0)
        .unwrap_or(f64::NAN)
}

fn collect(dir: &std::path::Path, root: &std::path::Path, out: &mut BTreeMap<String, Vec<u8>>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(&p, root, out);
        } else {
            out.insert(
                p.strip_prefix(root).unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            );
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (copies, dir) = match args.as_slice() {
        [flag, n, d] if flag == "--generate" => (n.parse::<usize>().expect("N"), std::path::PathBuf::from(d)),
        [d] => (1, std::path::PathBuf::from(d)),
        _ => panic!("usage: catalog_bench [--generate N] DIR"),
    };
    let t = Instant::now();
    let cat = if copies == 1 {
        load_dir(&dir).unwrap()
    } else {
        let mut files = BTreeMap::new();
        collect(&dir, &dir, &mut files);
        let names: Vec<String> = load_files(&files).unwrap().packages.keys().cloned().collect();
        let mut big = BTreeMap::new();
        for i in 0..copies {
            for (path, bytes) in &files {
                let mut text = String::from_utf8(bytes.clone()).unwrap();
                // Rename every package (and the bundle names, which start with it) for this copy.
                for n in &names {
                    text = text
                        .replace(&format!("package: {n}\n"), &format!("package: {n}-copy{i}\n"))
                        .replace(&format!("name: {n}\n"), &format!("name: {n}-copy{i}\n"))
                        .replace(&format!("packageName: {n}\n"), &format!("packageName: {n}-copy{i}\n"))
                        .replace(&format!("name: {n}."), &format!("name: {n}-copy{i}."))
                        .replace(&format!("replaces: {n}."), &format!("replaces: {n}-copy{i}."))
                        .replace(&format!("- {n}.v"), &format!("- {n}-copy{i}.v"));
                }
                big.insert(format!("copy{i}/{path}"), text.into_bytes());
            }
        }
        drop(files);
        let bytes: usize = big.values().map(|v| v.len()).sum();
        println!("generated: {copies} copies, {:.1} MB of YAML", bytes as f64 / 1e6);
        let t = Instant::now();
        let c = load_files(&big).unwrap();
        println!("load (generated): {:.2} s", t.elapsed().as_secs_f64());
        // The generated text is the harness's input, not the loader's: free it before the
        // filter so the peak RSS of the later steps is the catalog's and the output's.
        println!(
            "peak RSS after load (generated text still held) {:.0} MiB",
            peak_rss_mib()
        );
        drop(big);
        c
    };
    let load = t.elapsed().as_secs_f64();
    let what = if copies == 1 { "load" } else { "generation + load" };
    println!(
        "packages {}, bundles {}, {what} {:.2} s",
        cat.packages.len(),
        cat.bundle_count(),
        load
    );
    let t = Instant::now();
    let heads = filter(&cat, &CatalogFilter::default()).unwrap();
    println!(
        "heads only: {} bundles kept, {:.3} s",
        heads.catalog.bundle_count(),
        t.elapsed().as_secs_f64()
    );
    drop(heads);
    let t = Instant::now();
    let full = CatalogFilter {
        full: true,
        packages: cat
            .packages
            .keys()
            .map(|n| PackageFilter {
                name: n.clone(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let all = filter(&cat, &full).unwrap();
    let written = ferry_catalog::write_json(&all.catalog);
    println!(
        "all packages full: {} bundles, {:.3} s (+ index.json {:.1} MB written)",
        all.catalog.bundle_count(),
        t.elapsed().as_secs_f64(),
        written.len() as f64 / 1e6
    );
    println!("peak RSS {:.0} MiB", peak_rss_mib());
}
