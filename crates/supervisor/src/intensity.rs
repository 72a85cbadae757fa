//! Restart intensity: a sliding window that trips on the (max_restarts + 1)-th restart
//! within max_seconds.

use std::collections::VecDeque;
use std::time::Duration;

use arbor_actor::Exit;
use tokio::time::Instant;

/// The text of [`reached_max_intensity`]'s reason, as it appears in logs.
const REACHED_MAX_INTENSITY: &str = "reached max restart intensity";

/// The reason a supervisor exits with when it gives up because its children restarted
/// more than `max_restarts` times within `max_seconds`: an abnormal exit,
/// `Exit::Error("reached max restart intensity")`, so that its own supervisor sees a
/// failure. (OTP exits with `shutdown` and names `reached_max_restart_intensity` only in
/// its report; see `docs/otp-differences.md`.)
///
/// # Examples
///
/// ```
/// use arbor_actor::{Context, Exit, GenServer, HandleCast, Init, Outcome};
/// use arbor_supervisor::{reached_max_intensity, ChildSpec, Supervisor, SupervisorOptions};
///
/// #[derive(Clone)]
/// struct Fragile;
/// impl GenServer for Fragile {
///     type Args = ();
///     type State = ();
///     async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> {
///         Init::Ready(())
///     }
/// }
/// struct Break;
/// impl HandleCast<Break> for Fragile {
///     async fn handle_cast(&self, _: Break, _: &mut (), _ctx: &mut Context<Self>) -> Outcome {
///         Outcome::Stop(Exit::error("broken"))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let tree = Supervisor::start(
///     [ChildSpec::worker("fragile", Fragile, ())],
///     SupervisorOptions::one_for_one().max_restarts(0),
/// )
/// .await?;
/// let fragile = tree.find_child("fragile").await?.and_then(|child| child.server::<Fragile>());
/// fragile.ok_or("not running")?.cast(Break)?;
/// let exit = tree.wait().await;
/// assert_eq!(exit, reached_max_intensity());
/// assert!(exit.is_abnormal());
/// # Ok(())
/// # }
/// ```
pub fn reached_max_intensity() -> Exit {
    Exit::error(REACHED_MAX_INTENSITY)
}

/// The restarts a supervisor made inside its window (OTP's `max_restarts` within
/// `max_seconds`): a building block for supervisors of your own, such as a consumer
/// supervisor.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use arbor_supervisor::Intensity;
/// use tokio::time::Instant;
///
/// let mut intensity = Intensity::new(3, Duration::from_secs(5));
/// let now = Instant::now();
/// for _ in 0..3 {
///     assert!(intensity.record(now).is_ok());
/// }
/// assert!(intensity.record(now).is_err(), "the 4th restart in 5 s trips");
/// ```
#[derive(Debug, Clone)]
pub struct Intensity {
    max_restarts: u32,
    window: Duration,
    restarts: VecDeque<Instant>,
}

/// Too many restarts inside the window: the supervisor must give up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{REACHED_MAX_INTENSITY}")]
pub struct Tripped;

impl Intensity {
    /// At most `max_restarts` restarts within `window`.
    pub fn new(max_restarts: u32, window: Duration) -> Self {
        Intensity {
            max_restarts,
            window,
            restarts: VecDeque::new(),
        }
    }

    /// The most restarts allowed within the window.
    pub fn max_restarts(&self) -> u32 {
        self.max_restarts
    }

    /// The window.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Records a restart at `now`. A restart stays in the window while `now - at <= window`.
    ///
    /// # Errors
    ///
    /// [`Tripped`] on the (max_restarts + 1)-th restart inside the window.
    pub fn record(&mut self, now: Instant) -> Result<(), Tripped> {
        while let Some(&oldest) = self.restarts.front() {
            if now.saturating_duration_since(oldest) > self.window {
                self.restarts.pop_front();
            } else {
                break;
            }
        }
        self.restarts.push_back(now);
        if self.restarts.len() > self.max_restarts as usize {
            Err(Tripped)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn trips_on_exactly_the_restart_after_the_maximum() {
        let start = Instant::now();
        let mut intensity = Intensity::new(3, 5 * SECOND);
        for i in 0..3 {
            assert_eq!(intensity.record(start + i * SECOND), Ok(()), "restart {i}");
        }
        assert_eq!(intensity.record(start + 4 * SECOND), Err(Tripped));
    }

    #[test]
    fn restarts_spread_beyond_the_window_never_trip() {
        let start = Instant::now();
        let mut intensity = Intensity::new(3, 5 * SECOND);
        for i in 0..100 {
            assert_eq!(
                intensity.record(start + i * 2 * SECOND),
                Ok(()),
                "restart {i}"
            );
        }
    }

    #[test]
    fn zero_max_restarts_trips_on_the_first() {
        let mut intensity = Intensity::new(0, 5 * SECOND);
        assert_eq!(intensity.record(Instant::now()), Err(Tripped));
    }

    proptest::proptest! {
        /// For any restart times, the window trips exactly when more than `max` restarts
        /// fall within `window` of the latest one (checked against a direct count).
        #[test]
        fn trips_exactly_when_more_than_max_fall_in_the_window(
            max in 0u32..6,
            window_secs in 1u64..10,
            gaps in proptest::collection::vec(0u64..4000, 1..40),
        ) {
            let start = Instant::now();
            let window = Duration::from_secs(window_secs);
            let mut intensity = Intensity::new(max, window);
            let mut times = Vec::new();
            let mut now = start;
            for gap in gaps {
                now += Duration::from_millis(gap);
                times.push(now);
                let in_window = times.iter().filter(|&&t| now.duration_since(t) <= window).count();
                let expected = if in_window > max as usize { Err(Tripped) } else { Ok(()) };
                proptest::prop_assert_eq!(intensity.record(now), expected);
                if expected.is_err() {
                    break;
                }
            }
        }
    }

    #[test]
    fn a_restart_exactly_at_the_window_edge_still_counts() {
        let start = Instant::now();
        let mut intensity = Intensity::new(1, 5 * SECOND);
        assert_eq!(intensity.record(start), Ok(()));
        assert_eq!(intensity.record(start + 5 * SECOND), Err(Tripped));
    }
}
