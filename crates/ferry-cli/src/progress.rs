//! Progress bars for copy events: one overall bar (bytes, rate, time left) plus a line per blob
//! in flight. indicatif draws nothing when stderr is not a terminal, so CI logs stay clean.

use ferry_api::{ProgressEvent, ProgressSink};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

struct State {
    overall: ProgressBar,
    blobs: HashMap<String, (ProgressBar, u64)>,
    images_done: u64,
    images_total: u64,
}

pub struct ProgressUi {
    multi: MultiProgress,
    state: Arc<Mutex<State>>,
}

impl ProgressUi {
    pub fn new() -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                .expect("static template")
                .progress_chars("=> "),
        );
        let state = State {
            overall,
            blobs: HashMap::new(),
            images_done: 0,
            images_total: 0,
        };
        ProgressUi {
            multi,
            state: Arc::new(Mutex::new(state)),
        }
    }

    pub fn sink(&self) -> ProgressSink {
        let state = self.state.clone();
        let multi = self.multi.clone();
        Arc::new(move |ev: ProgressEvent| {
            let mut s = state.lock().expect("progress state");
            match ev {
                ProgressEvent::ImageStarted { .. } => {
                    s.images_total += 1;
                }
                ProgressEvent::ImagePlanned { bytes, .. } => {
                    s.overall.inc_length(bytes);
                }
                ProgressEvent::BlobStarted { digest, size, .. } => {
                    let pb = multi.add(ProgressBar::new(size));
                    pb.set_style(
                        ProgressStyle::with_template("  {msg} {bytes}/{total_bytes}").expect("static template"),
                    );
                    pb.set_message(digest.hex()[..12].to_string());
                    s.blobs.insert(digest.to_string(), (pb, 0));
                }
                ProgressEvent::BlobProgress { digest, bytes, .. } => {
                    let overall = s.overall.clone();
                    if let Some((pb, last)) = s.blobs.get_mut(&digest.to_string()) {
                        // `bytes` restarts at 0 after a retry: only count forward movement.
                        if bytes > *last {
                            overall.inc(bytes - *last);
                            *last = bytes;
                        }
                        pb.set_position(bytes);
                    }
                }
                ProgressEvent::BlobSkipped { size, .. } => s.overall.inc(size),
                ProgressEvent::BlobDone { digest, size, .. } => {
                    if let Some((pb, last)) = s.blobs.remove(&digest.to_string()) {
                        s.overall.inc(size.saturating_sub(last));
                        pb.finish_and_clear();
                        multi.remove(&pb);
                    }
                }
                ProgressEvent::BlobFailed { digest, .. } => {
                    if let Some((pb, _)) = s.blobs.remove(&digest.to_string()) {
                        pb.finish_and_clear();
                        multi.remove(&pb);
                    }
                }
                ProgressEvent::ImageDone { .. } => s.images_done += 1,
                ProgressEvent::ImageFailed { image, message, .. } => {
                    s.images_done += 1;
                    let _ = multi.println(format!("failed: {image}: {message}"));
                }
                _ => {}
            }
            let msg = format!("images {}/{}", s.images_done, s.images_total);
            s.overall.set_message(msg);
        })
    }

    pub fn finish(&self) {
        let s = self.state.lock().expect("progress state");
        for (pb, _) in s.blobs.values() {
            pb.finish_and_clear();
        }
        s.overall.finish_and_clear();
    }
}
