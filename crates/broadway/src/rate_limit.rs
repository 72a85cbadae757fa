//! The producers' shared allowance: at most `allowed` messages per `interval`, across
//! every producer of a pipeline (Broadway's `rate_limiting`).

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A fixed-window counter shared by a pipeline's producers.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    allowed: usize,
    interval: Duration,
    window: Mutex<Window>,
}

#[derive(Debug)]
struct Window {
    start: Instant,
    used: usize,
}

/// What a producer may emit now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Grant {
    /// How many messages it may emit.
    pub(crate) granted: usize,
    /// When the allowance renews, if the grant fell short.
    pub(crate) retry_in: Option<Duration>,
}

impl RateLimiter {
    pub(crate) fn new(allowed: usize, interval: Duration) -> Self {
        RateLimiter {
            allowed,
            interval,
            window: Mutex::new(Window {
                start: Instant::now(),
                used: 0,
            }),
        }
    }

    /// Takes up to `wanted` messages from the current window's allowance.
    pub(crate) fn take(&self, wanted: usize) -> Grant {
        let now = Instant::now();
        // A poisoned lock only means another producer panicked mid-update of two plain
        // numbers: the numbers are still usable.
        let mut window = self
            .window
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let elapsed = now.saturating_duration_since(window.start);
        if elapsed >= self.interval {
            let windows = elapsed.as_nanos() / self.interval.as_nanos().max(1);
            let skipped = u32::try_from(windows).unwrap_or(u32::MAX);
            window.start += self.interval.saturating_mul(skipped);
            window.used = 0;
        }
        let granted = wanted.min(self.allowed - window.used);
        window.used += granted;
        let retry_in = (granted < wanted)
            .then(|| (window.start + self.interval).saturating_duration_since(now))
            .map(|wait| wait.max(Duration::from_millis(1)));
        Grant { granted, retry_in }
    }
}
