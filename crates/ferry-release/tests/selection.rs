//! Version selection on the real Cincinnati graphs in the shared fixtures (offline).
//! Expected paths were worked out independently from the fixture files (a throw-away BFS over
//! the JSON with neighbours in descending version order, as oc-mirror does).

use ferry_release::testing::StaticGraphs;
use ferry_release::{select_all, select_channel, ChannelSpec, Graph, SelectOptions};
use semver::Version;
use std::collections::BTreeMap;
use std::path::PathBuf;

const E2E: &str = "cincinnati/cincinnati/e2e/tests/testdata/134475077ed4eeaedf3c339f12915b9cdaf7d194";
const S413: &str =
    "cincinnati/oc-mirror/tests/unit/testdata/working-dir-fake/hold-release/cincinnati-graph-data/amd64-stable-4.13.json";

fn file(channel: &str, arch: &str) -> Option<PathBuf> {
    if channel == "stable-4.13" {
        return ferry_testkit::fixture(S413);
    }
    ferry_testkit::fixture(&format!("{E2E}_{channel}_{arch}_v1.json"))
}

fn graph(channel: &str, arch: &str) -> Option<Graph> {
    let p = file(channel, arch)?;
    Some(Graph::parse(&std::fs::read(p).unwrap(), channel, arch).unwrap())
}

fn graphs(list: &[(&str, &str)]) -> Option<StaticGraphs> {
    let mut g = StaticGraphs::new();
    for (c, a) in list {
        g.load(c, a, &file(c, a)?).unwrap();
    }
    Some(g)
}

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

fn spec(name: &str, min: Option<&str>, max: Option<&str>, shortest: bool, full: bool) -> ChannelSpec {
    ChannelSpec::new(0, name, false, min, max, shortest, full).unwrap()
}

fn versions(rels: &[ferry_release::Release]) -> Vec<String> {
    rels.iter().map(|r| r.version.to_string()).collect()
}

#[test]
fn real_graphs_parse_with_conditional_edges_kept() {
    let Some(g48) = graph("stable-4.8", "amd64") else {
        return;
    };
    assert_eq!((g48.nodes.len(), g48.edges.len()), (101, 3168));
    let g413 = graph("stable-4.13", "amd64").unwrap();
    assert_eq!((g413.nodes.len(), g413.edges.len()), (98, 1171));
    assert_eq!(g413.conditional_edges.len(), 37);
    assert_eq!(g413.conditional_pair_count(), 2394);
    let risks = g413.risks_of(&v("4.13.1"), &v("4.13.36"));
    assert!(
        !risks.is_empty()
            && risks
                .iter()
                .all(|r| !r.name.is_empty() && r.url.starts_with("https://"))
    );
    let multi = graph("candidate-4.12", "multi").unwrap();
    assert_eq!(multi.nodes.len(), 5);
    assert_eq!(
        multi.head().unwrap().version,
        v("4.12.0-rc.4"),
        "prereleases order as semver"
    );
}

#[test]
fn docs_example_shortest_path_4_8_to_4_9_on_stable_4_9() {
    let Some(g) = graph("stable-4.9", "amd64") else { return };
    let sel = select_channel(
        &g,
        &spec("stable-4.9", Some("4.8.10"), Some("4.9.28"), true, false),
        None,
        false,
    )
    .unwrap();
    assert_eq!(versions(&sel.releases), ["4.8.10", "4.8.36", "4.9.28"]);
    assert!(sel.releases.iter().all(|r| r
        .payload
        .starts_with("quay.io/openshift-release-dev/ocp-release@sha256:")));
    let sel = select_channel(
        &g,
        &spec("stable-4.9", Some("4.8.20"), Some("4.9.40"), true, false),
        None,
        false,
    )
    .unwrap();
    assert_eq!(
        versions(&sel.releases),
        ["4.8.20", "4.9.40"],
        "a direct edge is a two-node path"
    );
    // The range form of the same request takes every release in between, 4.8 and 4.9 alike.
    let sel = select_channel(
        &g,
        &spec("stable-4.9", Some("4.8.10"), Some("4.9.28"), false, false),
        None,
        false,
    )
    .unwrap();
    assert_eq!(sel.releases.first().unwrap().version, v("4.8.10"));
    assert_eq!(sel.releases.last().unwrap().version, v("4.9.28"));
    assert!(
        sel.notes.iter().any(|n| n.contains("previous minor")),
        "{:?}",
        sel.notes
    );
}

#[test]
fn docs_example_min_to_latest() {
    let Some(g) = graph("stable-4.9", "amd64") else { return };
    let sel = select_channel(&g, &spec("stable-4.9", Some("4.9.10"), None, false, false), None, false).unwrap();
    let got = versions(&sel.releases);
    assert_eq!(got.first().unwrap(), "4.9.10");
    assert_eq!(got.last().unwrap(), "4.9.53");
    let expected = g.nodes.iter().filter(|n| n.version >= v("4.9.10")).count();
    assert_eq!(got.len(), expected);
    assert!(!sel.heads_only);
    let sel = select_channel(&g, &spec("stable-4.9", Some("4.9.10"), None, true, false), None, false).unwrap();
    assert_eq!(versions(&sel.releases), ["4.9.10", "4.9.53"]);
}

#[test]
fn docs_example_s390x_selected_on_its_own_graph() {
    let Some(s) = graph("stable-4.9", "s390x") else { return };
    let a = graph("stable-4.9", "amd64").unwrap();
    let sp = spec("stable-4.9", Some("4.9.10"), Some("4.9.12"), false, false);
    let sel = select_channel(&s, &sp, None, false).unwrap();
    assert_eq!(versions(&sel.releases), ["4.9.10", "4.9.11", "4.9.12"]);
    assert!(sel
        .releases
        .iter()
        .all(|r| r.arch == "s390x" && r.tag_arch() == "s390x"));
    let amd = select_channel(&a, &sp, None, false).unwrap();
    for (x, y) in sel.releases.iter().zip(&amd.releases) {
        assert_ne!(x.payload, y.payload, "s390x payloads are not the amd64 ones");
    }
    assert_eq!(amd.releases[0].tag(), "4.9.10-x86_64");
}

#[test]
fn full_stable_4_13_includes_previous_minor_and_says_so() {
    let Some(g) = graph("stable-4.13", "amd64") else { return };
    let sel = select_channel(&g, &spec("stable-4.13", None, None, false, true), None, false).unwrap();
    assert_eq!(sel.releases.len(), 98);
    assert_eq!(sel.min, v("4.12.0"));
    assert_eq!(sel.max, v("4.13.43"));
    let note = sel.notes.iter().find(|n| n.contains("previous minor")).expect("note");
    assert!(
        note.contains("57 of the 98") && note.contains("minVersion: 4.13.0"),
        "{note}"
    );
    // maxVersion only also starts at the lowest release of the channel.
    let sel = select_channel(
        &g,
        &spec("stable-4.13", None, Some("4.13.10"), false, false),
        None,
        false,
    )
    .unwrap();
    assert_eq!(sel.min, v("4.12.0"));
}

#[test]
fn conditional_edges_only_when_asked_and_no_path_is_an_error() {
    let Some(g) = graph("stable-4.13", "amd64") else { return };
    let sp = spec("stable-4.13", Some("4.13.1"), Some("4.13.36"), true, false);
    let e = select_channel(&g, &sp, None, false).unwrap_err().to_string();
    assert!(
        e.contains("no upgrade path from 4.13.1 to 4.13.36 in channel stable-4.13 for architecture amd64"),
        "{e}"
    );
    assert!(e.contains("conditional edges"), "{e}");
    let sel = select_channel(&g, &sp, None, true).unwrap();
    assert_eq!(versions(&sel.releases), ["4.13.1", "4.13.36"]);
    assert!(
        sel.notes
            .iter()
            .any(|n| n.contains("the shortest path takes conditional updates with known risks: 4.13.1 -> 4.13.36 (")),
        "{:?}",
        sel.notes
    );
    // A path that exists without them: the plan lists the risks it did not take.
    let sel = select_channel(&g, &spec("stable-4.13", Some("4.12.0"), None, true, false), None, false).unwrap();
    assert!(
        sel.notes
            .iter()
            .any(|n| n.contains("conditional updates between 4.12.0 and")
                && n.contains("were not followed (known risks: ")
                && n.contains("--include-conditional-edges")),
        "{:?}",
        sel.notes
    );
    let g9 = graph("stable-4.9", "amd64").unwrap();
    // min above max is refused before any graph is read.
    let e = ChannelSpec::new(2, "stable-4.9", false, Some("4.9.53"), Some("4.8.10"), true, false).unwrap_err();
    assert!(
        e.to_string().contains("channels[2]") && e.to_string().contains("above maxVersion"),
        "{e}"
    );
    // A version that is not in the channel names the channel, the arch and the channel's span.
    let e = select_channel(
        &g9,
        &spec("stable-4.9", Some("4.9.99"), None, false, false),
        None,
        false,
    )
    .unwrap_err();
    let e = e.to_string();
    assert!(
        e.contains("4.9.99 is not in channel stable-4.9 for architecture amd64") && e.contains("4.8.2 to 4.9.53"),
        "{e}"
    );
}

#[tokio::test]
async fn unknown_channel_is_a_clear_error() {
    let Some(src) = graphs(&[("stable-4.9", "amd64")]) else {
        return;
    };
    let e = select_all(
        &src,
        &[spec("stabel-4.9", None, None, false, false)],
        &["amd64".into()],
        &BTreeMap::new(),
        &SelectOptions::default(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("channel stabel-4.9 for architecture amd64 not found"), "{e}");
}

/// The stable-4.9 graph as it looked when 4.9.50 was its head.
fn truncated(g: &std::path::Path, keep_upto: &str) -> Vec<u8> {
    let mut j: serde_json::Value = serde_json::from_slice(&std::fs::read(g).unwrap()).unwrap();
    let nodes = j["nodes"].as_array().unwrap().clone();
    let keep: Vec<bool> = nodes
        .iter()
        .map(|n| v(n["version"].as_str().unwrap()) <= v(keep_upto))
        .collect();
    let mut remap = vec![None; nodes.len()];
    let mut new_nodes = Vec::new();
    for (i, n) in nodes.into_iter().enumerate() {
        if keep[i] {
            remap[i] = Some(new_nodes.len());
            new_nodes.push(n);
        }
    }
    let edges: Vec<serde_json::Value> = j["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            let (f, t) = (e[0].as_u64()? as usize, e[1].as_u64()? as usize);
            Some(serde_json::json!([remap[f]?, remap[t]?]))
        })
        .collect();
    j["nodes"] = new_nodes.into();
    j["edges"] = edges.into();
    serde_json::to_vec(&j).unwrap()
}

#[tokio::test]
async fn heads_only_across_two_runs_and_each_arch_on_its_own() {
    let Some(p) = file("stable-4.9", "amd64") else { return };
    let archs = vec!["amd64".to_string(), "s390x".to_string()];
    let heads = [spec("stable-4.9", None, None, false, false)];
    // Run 1, when 4.9.50 was the head: only the head, remembered.
    let dir = tempfile::tempdir().unwrap();
    let mut old = StaticGraphs::new();
    for a in &archs {
        let f = dir.path().join(format!("{a}.json"));
        std::fs::write(&f, truncated(&file("stable-4.9", a).unwrap(), "4.9.50")).unwrap();
        old.load("stable-4.9", a, &f).unwrap();
    }
    let run1 = select_all(&old, &heads, &archs, &BTreeMap::new(), &SelectOptions::default())
        .await
        .unwrap();
    assert_eq!(versions(&run1.releases), ["4.9.50", "4.9.50"]);
    assert_eq!(run1.releases[0].arch, "amd64");
    assert_eq!(run1.releases[1].arch, "s390x");
    // v1 wrote the first arch's resolved range back into the config, which made the second
    // arch `full`; here both stay heads-only.
    assert!(run1.channels.iter().all(|c| c.heads_only));
    assert_eq!(run1.remember.get("stable-4.9").map(String::as_str), Some("4.9.50"));
    // Run 2 on today's graph: from the remembered head to the new head.
    let mut now = StaticGraphs::new();
    now.load("stable-4.9", "amd64", &p).unwrap();
    now.load("stable-4.9", "s390x", &file("stable-4.9", "s390x").unwrap())
        .unwrap();
    let remembered: BTreeMap<String, Version> = run1.remember.iter().map(|(k, x)| (k.clone(), v(x))).collect();
    let run2 = select_all(
        &now,
        &heads,
        &["amd64".to_string()],
        &remembered,
        &SelectOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(versions(&run2.releases), ["4.9.50", "4.9.51", "4.9.52", "4.9.53"]);
    assert_eq!(
        run2.remember.get("stable-4.9").map(String::as_str),
        Some("4.9.50"),
        "the first head stays remembered"
    );
}

#[tokio::test]
async fn multi_channel_chain_across_minors() {
    let Some(src) = graphs(&[("stable-4.8", "amd64"), ("stable-4.9", "amd64")]) else {
        return;
    };
    let chans = [
        spec("stable-4.8", Some("4.8.10"), None, true, false),
        spec("stable-4.9", Some("4.9.0"), Some("4.9.53"), true, false),
    ];
    let sel = select_all(
        &src,
        &chans,
        &["amd64".into()],
        &BTreeMap::new(),
        &SelectOptions::default(),
    )
    .await
    .unwrap();
    // stable-4.8 4.8.10 → its head 4.8.54, then stable-4.9 from 4.8.54 to 4.9.53.
    assert_eq!(versions(&sel.chain), ["4.8.10", "4.8.54", "4.9.53"]);
    assert!(sel.blocked_edges.is_empty());
    // Per channel: stable-4.8 4.8.10 → 4.8.54; stable-4.9 4.9.0 → 4.9.53.
    assert_eq!(versions(&sel.channels[0].releases), ["4.8.10", "4.8.54"]);
    assert_eq!(versions(&sel.channels[1].releases), ["4.9.0", "4.9.53"]);
    let mut all = versions(&sel.releases);
    all.dedup();
    assert_eq!(all.len(), sel.releases.len(), "deduplicated");
}

#[tokio::test]
async fn blocked_edge_is_reported_and_the_chain_stops() {
    let Some(p) = file("stable-4.9", "amd64") else { return };
    // A stable-4.10 that does not contain 4.9.53 (stable-4.9's head).
    let next = br#"{"version":1,"nodes":[
        {"version":"4.9.40","payload":"quay.io/openshift-release-dev/ocp-release@sha256:1111111111111111111111111111111111111111111111111111111111111111","metadata":{}},
        {"version":"4.10.3","payload":"quay.io/openshift-release-dev/ocp-release@sha256:2222222222222222222222222222222222222222222222222222222222222222","metadata":{}}],
        "edges":[[0,1]]}"#;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("g.json"), next).unwrap();
    let mut src = StaticGraphs::new();
    src.load("stable-4.9", "amd64", &p).unwrap();
    src.load("stable-4.10", "amd64", &dir.path().join("g.json")).unwrap();
    let chans = [
        spec("stable-4.9", Some("4.9.10"), None, true, false),
        spec("stable-4.10", None, Some("4.10.3"), true, false),
    ];
    let sel = select_all(
        &src,
        &chans,
        &["amd64".into()],
        &BTreeMap::new(),
        &SelectOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(sel.blocked_edges.len(), 1);
    assert_eq!(sel.blocked_edges[0].from, v("4.9.53"));
    assert_eq!(sel.blocked_edges[0].channel, "stable-4.10");
    assert_eq!(versions(&sel.chain), ["4.9.10", "4.9.53", "4.10.3"]);
    assert!(sel.notes.iter().any(|n| n.contains("blocked edge")), "{:?}", sel.notes);
}

#[test]
fn multi_payloads_keep_their_arch() {
    let Some(g) = graph("candidate-4.12", "multi") else {
        return;
    };
    let sel = select_channel(&g, &spec("candidate-4.12", None, None, false, true), None, false).unwrap();
    assert_eq!(sel.releases.len(), 5);
    assert_eq!(sel.releases[4].tag(), "4.12.0-rc.4-multi");
}
