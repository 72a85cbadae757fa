//! Timers: messages sent after a delay or at an interval, and the idle timeout.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::task::AbortHandle;
use tokio::time::Instant;

const PENDING: u8 = 0;
const DONE: u8 = 1;
const CANCELLED: u8 = 2;

/// A running timer, from [`Server::send_after`](crate::Server::send_after),
/// [`Server::send_interval`](crate::Server::send_interval) or their
/// [`Context`](crate::Context) twins.
///
/// Dropping it does not cancel the timer (as in OTP, the timer belongs to the runtime);
/// an interval also ends by itself once its server has stopped.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use arbor_actor::{Context, GenServer, HandleInfo, Init, Outcome, Server};
///
/// struct Alarm;
/// impl GenServer for Alarm {
///     type Args = ();
///     type State = bool;
///     async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<bool> {
///         Init::Ready(false)
///     }
/// }
/// struct Ring;
/// impl HandleInfo<Ring> for Alarm {
///     async fn handle_info(&self, _: Ring, rang: &mut bool, _ctx: &mut Context<Self>) -> Outcome {
///         *rang = true;
///         Outcome::NoReply
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let alarm = Server::start(Alarm, ()).await?;
/// let timer = alarm.send_after(Duration::from_secs(60), Ring);
/// assert!(timer.cancel(), "cancelled before it fired");
/// assert!(!timer.is_active());
/// # Ok(())
/// # }
/// ```
pub struct TimerRef {
    task: AbortHandle,
    state: Arc<AtomicU8>,
}

impl TimerRef {
    /// Cancels the timer. Returns `true` if it had not fired yet (for an interval: if it
    /// was still running), `false` if it had already fired or been cancelled.
    pub fn cancel(&self) -> bool {
        let cancelled = self
            .state
            .compare_exchange(PENDING, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        self.task.abort();
        cancelled
    }

    /// `true` while the timer may still fire.
    pub fn is_active(&self) -> bool {
        self.state.load(Ordering::Acquire) == PENDING
    }
}

impl fmt::Debug for TimerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerRef")
            .field("active", &self.is_active())
            .finish()
    }
}

/// `now + after`, saturating: a huge duration (such as `Duration::MAX`) means "as good as
/// never" rather than an overflow panic.
pub(crate) fn deadline_after(after: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(after).unwrap_or_else(|| now + FAR_FUTURE)
}

/// About thirty years: what tokio itself uses for "never".
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// Whether waiting `timeout` can end before "never": `Duration::MAX` and other durations of
/// thirty years or more mean no limit.
pub(crate) fn is_limited(timeout: Duration) -> bool {
    timeout < FAR_FUTURE
}

/// Runs `fire` once, `after` from now, unless cancelled first.
pub(crate) fn after(
    runtime: &Handle,
    after: Duration,
    fire: impl FnOnce() + Send + 'static,
) -> TimerRef {
    let deadline = deadline_after(after);
    let state = Arc::new(AtomicU8::new(PENDING));
    let flag = Arc::clone(&state);
    let task = runtime.spawn(async move {
        tokio::time::sleep_until(deadline).await;
        // Whoever moves the flag out of PENDING first wins: the timer or `cancel`.
        if flag
            .compare_exchange(PENDING, DONE, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            fire();
        }
    });
    TimerRef {
        task: task.abort_handle(),
        state,
    }
}

/// Runs `tick` every `period` (first after one period) until it returns `false` or the
/// timer is cancelled. Ticks keep a fixed rate: a late tick is followed by the ones missed.
pub(crate) fn every(
    runtime: &Handle,
    period: Duration,
    mut tick: impl FnMut() -> bool + Send + 'static,
) -> TimerRef {
    let start = deadline_after(period);
    let state = Arc::new(AtomicU8::new(PENDING));
    let flag = Arc::clone(&state);
    let task = runtime.spawn(async move {
        let mut interval = tokio::time::interval_at(start, period);
        loop {
            interval.tick().await;
            if flag.load(Ordering::Acquire) != PENDING || !tick() {
                break;
            }
        }
        let _ = flag.compare_exchange(PENDING, DONE, Ordering::AcqRel, Ordering::Acquire);
    });
    TimerRef {
        task: task.abort_handle(),
        state,
    }
}

/// Delivered to [`HandleInfo<IdleTimeout>`](crate::HandleInfo) when no message arrived
/// within the time asked for with [`Context::idle_timeout`](crate::Context::idle_timeout):
/// OTP's `:timeout` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IdleTimeout;

/// The idle timeout the server armed after its last callback, if any.
#[derive(Debug, Default)]
pub(crate) struct IdleTimer {
    last_token: u64,
    armed: Option<(u64, TimerRef)>,
}

impl IdleTimer {
    /// Arms a new timeout; `deliver` sends the idle message carrying the returned token.
    pub(crate) fn arm(
        &mut self,
        runtime: &Handle,
        after_idle: Duration,
        deliver: impl FnOnce(u64) + Send + 'static,
    ) {
        self.disarm();
        self.last_token += 1;
        let token = self.last_token;
        let timer = after(runtime, after_idle, move || deliver(token));
        self.armed = Some((token, timer));
    }

    /// Any message arriving cancels the timeout, as in OTP.
    pub(crate) fn disarm(&mut self) {
        if let Some((_, timer)) = self.armed.take() {
            timer.cancel();
        }
    }

    /// Whether the idle message with this token is the live one (it may have been
    /// queued just before a newer message disarmed it).
    pub(crate) fn take_if_live(&mut self, token: u64) -> bool {
        match &self.armed {
            Some((live, _)) if *live == token => {
                self.armed = None;
                true
            }
            _ => false,
        }
    }
}
