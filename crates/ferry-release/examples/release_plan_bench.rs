//! Planning benchmark on the real fixtures (no network): the stable-4.13 graph (98 nodes,
//! `full`, and a shortest path across it) and the expansion of the real 4.12.0 release's
//! `image-references` (183 components + the release image = the destinations of a
//! 185-image release plan less one). Prints wall times; run it under `/usr/bin/time -v` for
//! the peak RSS (bench/release.sh does).
//!
//! Usage: release_plan_bench <fixtures-dir> [iterations]

use ferry_release::payload::parse_image_references;
use ferry_release::testing::StaticGraphs;
use ferry_release::{select_all, ChannelSpec, SelectOptions};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

const S413: &str =
    "cincinnati/oc-mirror/tests/unit/testdata/working-dir-fake/hold-release/cincinnati-graph-data/amd64-stable-4.13.json";
const REFS: &str =
    "release/oc-mirror/tests/unit/testdata/working-dir-fake/hold-release/ocp-release/4.14.1-x86_64/release-manifests/image-references";

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let fx = PathBuf::from(
        args.next()
            .expect("usage: release_plan_bench <fixtures-dir> [iterations]"),
    );
    let iters: u32 = args.next().map(|s| s.parse().expect("iterations")).unwrap_or(20);

    let t = Instant::now();
    let mut graphs = StaticGraphs::new();
    for _ in 0..iters {
        graphs = StaticGraphs::new();
        graphs.load("stable-4.13", "amd64", &fx.join(S413)).expect("graph");
    }
    let parse = t.elapsed() / iters;

    let archs = vec!["amd64".to_string()];
    let full = [ChannelSpec::new(0, "stable-4.13", false, None, None, false, true).unwrap()];
    let path = [ChannelSpec::new(0, "stable-4.13", false, Some("4.12.0"), None, true, false).unwrap()];
    let t = Instant::now();
    let mut n_full = 0;
    for _ in 0..iters {
        n_full = select_all(&graphs, &full, &archs, &BTreeMap::new(), &SelectOptions::default())
            .await
            .unwrap()
            .releases
            .len();
    }
    let sel_full = t.elapsed() / iters;
    let t = Instant::now();
    let mut n_path = 0;
    for _ in 0..iters {
        n_path = select_all(&graphs, &path, &archs, &BTreeMap::new(), &SelectOptions::default())
            .await
            .unwrap()
            .releases
            .len();
    }
    let sel_path = t.elapsed() / iters;

    let refs = std::fs::read(fx.join(REFS)).expect("image-references");
    let t = Instant::now();
    let mut n_dest = 0;
    for _ in 0..iters {
        let (version, comps) = parse_image_references(&refs, "4.12.0").unwrap();
        let dests: Vec<String> = std::iter::once(format!("openshift/release-images:{version}-x86_64"))
            .chain(
                comps
                    .iter()
                    .map(|c| format!("openshift/release:{version}-x86_64-{}", c.name)),
            )
            .collect();
        n_dest = dests.len();
    }
    let expand = t.elapsed() / iters;

    println!(
        "stable-4.13 graph parse:            {:>8.3} ms",
        parse.as_secs_f64() * 1e3
    );
    println!(
        "stable-4.13 full selection:         {:>8.3} ms ({n_full} releases)",
        sel_full.as_secs_f64() * 1e3
    );
    println!(
        "stable-4.13 shortest path 4.12.0→head: {:>5.3} ms ({n_path} releases)",
        sel_path.as_secs_f64() * 1e3
    );
    println!(
        "4.12.0 release expansion:           {:>8.3} ms ({n_dest} destinations)",
        expand.as_secs_f64() * 1e3
    );
}
