//! What a callback can ask of its own server besides returning an outcome.

use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::envelope::{work, ContinueEnvelope, InfoEnvelope, Work};
use crate::{GenServer, HandleContinue, HandleInfo, IdleTimeout, Server, TimerRef};

type MakeIdle<G> = fn() -> Work<G>;

/// A reply held back until `terminate` has run (`CallOutcome::StopWithReply`); `false`
/// when the caller no longer waits.
pub(crate) type HeldReply = Box<dyn FnOnce() -> bool + Send>;

/// Handed to every callback: the server's own handle, continuations, timers to self and
/// the idle timeout.
///
/// # Examples
///
/// ```
/// use arbor_actor::{CallOutcome, Caller, Context, GenServer, HandleCall, HandleContinue, Init, Outcome, Server};
///
/// struct Loader;
/// struct LoadData;
/// struct Len;
///
/// impl GenServer for Loader {
///     type Args = ();
///     type State = Vec<u8>;
///     async fn init(&self, _: (), ctx: &mut Context<Self>) -> Init<Vec<u8>> {
///         // `start` returns at once; the slow part runs before any message.
///         ctx.continue_with(LoadData);
///         Init::Ready(Vec::new())
///     }
/// }
///
/// impl HandleContinue<LoadData> for Loader {
///     async fn handle_continue(&self, _: LoadData, data: &mut Vec<u8>, _ctx: &mut Context<Self>) -> Outcome {
///         data.extend_from_slice(b"loaded");
///         Outcome::NoReply
///     }
/// }
///
/// impl HandleCall<Len> for Loader {
///     type Reply = usize;
///     async fn handle_call(&self, _: Len, _: Caller<'_, usize>, data: &mut Vec<u8>, _ctx: &mut Context<Self>) -> CallOutcome<usize> {
///         CallOutcome::Reply(data.len())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let loader = Server::start(Loader, ()).await?;
/// assert_eq!(loader.call(Len).await?, 6, "the continuation ran before the call");
/// # Ok(())
/// # }
/// ```
pub struct Context<G: GenServer> {
    myself: Server<G>,
    // In a Mutex only to make `Context` Sync (callbacks may hold `&ctx` across an
    // `.await`); it is only ever reached through `&mut self`, so never locked.
    continuation: Mutex<Option<Work<G>>>,
    idle: Option<(Duration, MakeIdle<G>)>,
    // In a Mutex for the same reason as `continuation`.
    held_reply: Mutex<Option<HeldReply>>,
}

impl<G: GenServer> Context<G> {
    pub(crate) fn new(myself: Server<G>) -> Self {
        Context {
            myself,
            continuation: Mutex::new(None),
            idle: None,
            held_reply: Mutex::new(None),
        }
    }

    /// This server's own handle (OTP's `self()`).
    pub fn myself(&self) -> &Server<G> {
        &self.myself
    }

    /// Runs `handle_continue(work)` right after the current callback, before any message
    /// already queued (OTP's `{:continue, work}`). Asking twice in one callback keeps the
    /// last request.
    pub fn continue_with<M>(&mut self, next: M)
    where
        G: HandleContinue<M>,
        M: Send + 'static,
    {
        let replaced = self
            .continuation_slot()
            .replace(work(ContinueEnvelope::new(next)))
            .is_some();
        if replaced {
            tracing::warn!(server = %self.myself, "continue_with called twice in one callback; the first continuation is dropped");
        }
    }

    /// Asks to receive [`IdleTimeout`] if no message arrives within `after` once the
    /// current callback returns (OTP's timeout in a return tuple). Any message arriving
    /// first cancels it; ask again from each callback that wants it.
    pub fn idle_timeout(&mut self, after: Duration)
    where
        G: HandleInfo<IdleTimeout>,
    {
        self.idle = Some((after, || work(InfoEnvelope::new(IdleTimeout))));
    }

    /// Sends `message` to this server (as info) after `after`.
    pub fn send_after<M>(&self, after: Duration, message: M) -> TimerRef
    where
        G: HandleInfo<M>,
        M: Send + 'static,
    {
        self.myself.send_after(after, message)
    }

    /// Sends `make()` to this server (as info) every `period`.
    pub fn send_interval<M, F>(&self, period: Duration, make: F) -> TimerRef
    where
        G: HandleInfo<M>,
        M: Send + 'static,
        F: FnMut() -> M + Send + 'static,
    {
        self.myself.send_interval(period, make)
    }

    /// No continuation and no idle timeout asked for.
    pub(crate) fn nothing_asked(&mut self) -> bool {
        self.idle.is_none() && self.continuation_slot().is_none()
    }

    pub(crate) fn take_continuation(&mut self) -> Option<Work<G>> {
        self.continuation_slot().take()
    }

    fn continuation_slot(&mut self) -> &mut Option<Work<G>> {
        self.continuation
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps `reply` to be sent once `terminate` has run.
    pub(crate) fn hold_reply(&mut self, reply: HeldReply) {
        *self
            .held_reply
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner) = Some(reply);
    }

    /// The reply held back by `hold_reply`, if any.
    pub(crate) fn take_held_reply(&mut self) -> Option<HeldReply> {
        self.held_reply
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    pub(crate) fn take_idle(&mut self) -> Option<(Duration, MakeIdle<G>)> {
        self.idle.take()
    }
}

impl<G: GenServer> fmt::Debug for Context<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("server", &self.myself)
            .field(
                "continuation",
                &self
                    .continuation
                    .try_lock()
                    .is_ok_and(|slot| slot.is_some()),
            )
            .field("idle_timeout", &self.idle.map(|(after, _)| after))
            .finish()
    }
}
