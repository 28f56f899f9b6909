//! The one retry delay of the engine (the registry client's request retries and the copy
//! engine's blob retries): exponential from `base`, capped at [`MAX`], with ±25% jitter so
//! parallel retries do not hit a registry together, and a registry's `Retry-After` honoured
//! (up to a minute).

use std::time::Duration;

/// Longest delay before a retry, jitter aside.
pub const MAX: Duration = Duration::from_secs(10);

/// The delay before retry number `retry` (0 = the first retry) after an error.
pub fn delay(base: Duration, retry: u32, retry_after: Option<Duration>) -> Duration {
    let exp = base.saturating_mul(1u32 << retry.min(16)).min(MAX);
    let d = exp.mul_f64(0.75 + jitter() / 2.0);
    match retry_after {
        Some(ra) => ra.min(Duration::from_secs(60)).max(d),
        None => d,
    }
}

/// A value in [0, 1) that differs between calls and threads (no RNG dependency needed).
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0),
    );
    (h.finish() % 1_000_000) as f64 / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_is_capped_and_honours_retry_after() {
        let base = Duration::from_millis(100);
        for _ in 0..50 {
            let d0 = delay(base, 0, None);
            assert!(
                d0 >= Duration::from_millis(75) && d0 <= Duration::from_millis(125),
                "{d0:?}"
            );
            let d2 = delay(base, 2, None);
            assert!(
                d2 >= Duration::from_millis(300) && d2 <= Duration::from_millis(500),
                "{d2:?}"
            );
            let d30 = delay(base, 30, None);
            assert!(d30 >= MAX.mul_f64(0.75) && d30 <= MAX.mul_f64(1.25), "{d30:?}");
            let ra = delay(base, 0, Some(Duration::from_secs(3)));
            assert_eq!(ra, Duration::from_secs(3));
            let capped = delay(base, 0, Some(Duration::from_secs(3600)));
            assert_eq!(capped, Duration::from_secs(60));
        }
    }
}
