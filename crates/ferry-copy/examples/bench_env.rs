//! Benchmark environment for bench/run.sh: starts a source registry and `--targets` empty target
//! registries (Debian's docker-registry via ferry-testkit, loopback only), pushes the benchmark
//! data set into the source, writes `<workdir>/env` and `<workdir>/images.txt`, touches
//! `<workdir>/ready`, then keeps the registries up until `<workdir>/stop` appears.
//!
//! Data set: images in Docker v2s2 and OCI, a multi-arch index, shared base layers, several
//! small images, and one image with a big layer (`--big-mib`, default 1024).

use ferry_testkit::{push_image, ImageFormat, ImageSpec, LayerSpec, RegistryOpts, RegistryServer};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

const MIB: u64 = 1 << 20;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn layer(mib: u64, seed: u64) -> LayerSpec {
    LayerSpec { size: mib * MIB, seed }
}

fn spec(format: ImageFormat, layers: Vec<LayerSpec>) -> ImageSpec {
    ImageSpec {
        format,
        layers,
        platforms: vec![("linux".into(), "amd64".into())],
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let workdir = PathBuf::from(arg(&args, "--workdir").expect("--workdir DIR"));
    let big_mib: u64 = arg(&args, "--big-mib")
        .map(|s| s.parse().expect("--big-mib N"))
        .unwrap_or(1024);
    let targets: usize = arg(&args, "--targets")
        .map(|s| s.parse().expect("--targets N"))
        .unwrap_or(2);

    let src = RegistryServer::start(RegistryOpts::default());
    let dsts: Vec<RegistryServer> = (0..targets)
        .map(|_| RegistryServer::start(RegistryOpts::default()))
        .collect();

    let base1 = layer(24, 100);
    let base2 = layer(40, 101);
    let mut set: Vec<(String, ImageSpec)> = vec![
        (
            "bench/ubi-app-1".into(),
            spec(ImageFormat::DockerV2S2, vec![base1, base2, layer(16, 1)]),
        ),
        (
            "bench/ubi-app-2".into(),
            spec(ImageFormat::Oci, vec![base1, base2, layer(32, 2)]),
        ),
        (
            "bench/layered".into(),
            spec(
                ImageFormat::DockerV2S2,
                vec![base1, layer(8, 3), layer(8, 4), layer(8, 5), layer(8, 6)],
            ),
        ),
        (
            "bench/multi".into(),
            ImageSpec {
                format: ImageFormat::Oci,
                layers: vec![base1, layer(20, 7)],
                platforms: vec![("linux".into(), "amd64".into()), ("linux".into(), "arm64".into())],
            },
        ),
        (
            "bench/big".into(),
            spec(ImageFormat::DockerV2S2, vec![base1, layer(big_mib, 999)]),
        ),
    ];
    for i in 0..6 {
        set.push((
            format!("bench/small-{i}"),
            spec(ImageFormat::Oci, vec![layer(1, 200 + i), layer(2, 300 + i)]),
        ));
    }

    let mut lines = String::new();
    let mut unique: HashMap<String, u64> = HashMap::new();
    for (repo, s) in &set {
        let t = std::time::Instant::now();
        let img = push_image(&src, repo, "v1", s).await;
        eprintln!("bench_env: pushed {repo}:v1 {} in {:.1?}", img.digest, t.elapsed());
        for (d, size) in &img.blobs {
            unique.insert(d.to_string(), *size);
        }
        lines.push_str(&format!("{} {} {}\n", img.repo, img.tag, img.digest));
    }
    let images = workdir.join("images.txt");
    std::fs::write(&images, lines).unwrap();
    let hosts: Vec<String> = dsts.iter().map(|d| d.host()).collect();
    let env = format!(
        "SRC={}\nTARGETS=\"{}\"\nDATASET_BYTES={}\nIMAGES={}\n",
        src.host(),
        hosts.join(" "),
        unique.values().sum::<u64>(),
        images.display()
    );
    std::fs::write(workdir.join("env"), env).unwrap();
    std::fs::write(workdir.join("ready"), "").unwrap();
    let stop = workdir.join("stop");
    while !stop.exists() {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // Dropping the servers stops the registries and removes their storage.
    drop(dsts);
    drop(src);
}
