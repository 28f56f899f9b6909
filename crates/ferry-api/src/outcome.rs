//! Folding a copy report into what a run reports: the items whose image is complete in the
//! destination (copied now or found up to date) and the failed ones with their reasons. One
//! home for mirror-to-mirror, mirror-to-disk and disk-to-mirror, which each pair the report's
//! results (in job order) with their own per-image records.

use crate::disk::FailedImage;
use ferry_copy::CopyReport;

/// A copy report paired with the per-job items it was started from.
pub(crate) struct Folded<'a, T> {
    /// Items whose image is complete in the destination.
    pub done: Vec<&'a T>,
    pub failed: Vec<(&'a T, FailedImage)>,
    /// Images copied by this run.
    pub copied: usize,
    /// Images the destination already held.
    pub up_to_date: usize,
}

/// `items[i]` belongs to `report.results[i]` (the copy engine keeps job order).
pub(crate) fn fold<'a, T>(report: &CopyReport, items: &'a [T]) -> Folded<'a, T> {
    let mut out = Folded {
        done: Vec::new(),
        failed: Vec::new(),
        copied: 0,
        up_to_date: 0,
    };
    for (r, item) in report.results.iter().zip(items) {
        match &r.outcome {
            Ok(_) => {
                if r.up_to_date {
                    out.up_to_date += 1;
                } else {
                    out.copied += 1;
                }
                out.done.push(item);
            }
            Err(e) => out.failed.push((
                item,
                FailedImage {
                    image: r.label.clone(),
                    error: e.to_string(),
                },
            )),
        }
    }
    out
}
