//! The run's counts as `metrics` series, for `/metrics` and the observer's page
//! (`--observe` installs the Prometheus recorder; without a recorder these are no-ops).

use crate::Progress;

/// Publishes `progress`: a counter per way a page ends, the pages requested, and the
/// pages in flight.
pub(crate) fn export(progress: &Progress) {
    let as_u64 = |count: usize| u64::try_from(count).unwrap_or(u64::MAX);
    metrics::counter!("scraper_pages_requested_total").absolute(as_u64(progress.requested));
    for (end, count) in [
        ("scraped", as_u64(progress.scraped)),
        ("offline", as_u64(progress.offline)),
        ("failed", as_u64(progress.failed)),
        ("discarded", progress.discarded),
    ] {
        metrics::counter!("scraper_pages_total", "end" => end).absolute(count);
    }
    #[allow(clippy::cast_precision_loss)] // pages in flight are far below 2^52
    metrics::gauge!("scraper_pages_in_flight").set(progress.in_flight as f64);
}
