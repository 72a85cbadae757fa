//! Reply handles: answering a call now, or later from anywhere (`GenServer.reply/2`).

use std::fmt;

use std::sync::Arc;

use tokio::sync::oneshot;

use crate::record::Record;

/// Marks a reply handle that was dropped unanswered, so the caller learns it at once.
#[derive(Debug)]
pub(crate) struct Abandoned;

pub(crate) type ReplySender<R> = oneshot::Sender<Result<R, Abandoned>>;

/// The caller of the request being handled: OTP's `from`.
///
/// Most handlers ignore it and return [`CallOutcome::Reply`](crate::CallOutcome::Reply).
/// To answer later, take the reply handle with [`Caller::defer`], keep it (in the state,
/// in a task), return [`CallOutcome::NoReply`](crate::CallOutcome::NoReply), and call
/// [`ReplyTo::reply`] when the answer is ready.
pub struct Caller<'a, R> {
    slot: &'a mut Option<ReplySender<R>>,
    server: &'a Arc<Record>,
}

impl<'a, R> Caller<'a, R> {
    pub(crate) fn new(slot: &'a mut Option<ReplySender<R>>, server: &'a Arc<Record>) -> Self {
        Caller { slot, server }
    }

    /// Takes the reply handle, so the answer can be given later with [`ReplyTo::reply`].
    pub fn defer(self) -> ReplyTo<R> {
        ReplyTo {
            tx: self.slot.take(),
            server: Arc::clone(self.server),
        }
    }
}

impl<R> fmt::Debug for Caller<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Caller")
            .field("server", &self.server.id())
            .finish_non_exhaustive()
    }
}

/// A deferred reply to one call, answerable once, from any task.
///
/// Dropping it unanswered gives the caller [`CallError::NoReply`](crate::CallError::NoReply)
/// at once, or [`CallError::Exited`](crate::CallError::Exited) when the server is exiting.
///
/// # Examples
///
/// ```
/// use arbor_actor::{CallOutcome, Caller, Context, GenServer, HandleCall, HandleCast, Init, Outcome, ReplyTo, Server};
///
/// /// Holds callers until a value is published.
/// struct Latch;
/// impl GenServer for Latch {
///     type Args = ();
///     type State = Vec<ReplyTo<&'static str>>;
///     async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<Self::State> {
///         Init::Ready(Vec::new())
///     }
/// }
///
/// struct Wait;
/// impl HandleCall<Wait> for Latch {
///     type Reply = &'static str;
///     async fn handle_call(&self, _: Wait, from: Caller<'_, &'static str>, waiting: &mut Self::State, _ctx: &mut Context<Self>) -> CallOutcome<&'static str> {
///         waiting.push(from.defer());
///         CallOutcome::NoReply
///     }
/// }
///
/// struct Publish(&'static str);
/// impl HandleCast<Publish> for Latch {
///     async fn handle_cast(&self, Publish(value): Publish, waiting: &mut Self::State, _ctx: &mut Context<Self>) -> Outcome {
///         for reply in waiting.drain(..) {
///             reply.reply(value);
///         }
///         Outcome::NoReply
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let latch = Server::start(Latch, ()).await?;
/// let waiter = tokio::spawn({
///     let latch = latch.clone();
///     async move { latch.call(Wait).await }
/// });
/// # tokio::task::yield_now().await;
/// latch.cast(Publish("go"))?;
/// assert_eq!(waiter.await??, "go");
/// # Ok(())
/// # }
/// ```
pub struct ReplyTo<R> {
    tx: Option<ReplySender<R>>,
    server: Arc<Record>,
}

impl<R> ReplyTo<R> {
    /// Answers the call. Returns `false` when the caller no longer waits (it timed out or
    /// was cancelled), or when the server has stopped meanwhile: as in OTP, the caller
    /// then gets the server's exit, not a reply from beyond it. The value is dropped.
    pub fn reply(mut self, value: R) -> bool {
        if self.server.has_stopped() {
            return false;
        }
        match self.tx.take() {
            Some(tx) => tx.send(Ok(value)).is_ok(),
            None => false,
        }
    }

    /// `true` once the caller no longer waits for the answer.
    pub fn is_closed(&self) -> bool {
        self.tx.as_ref().is_none_or(oneshot::Sender::is_closed)
    }
}

impl<R> Drop for ReplyTo<R> {
    fn drop(&mut self) {
        let Some(tx) = self.tx.take() else {
            return;
        };
        // A handle dropped while its own server unwinds from a panic must not report
        // `NoReply`: the caller is about to see the server's exit instead.
        let in_own_server = matches!(
            (crate::current::current_server(), self.server.id()),
            (Some(current), Some(own)) if current == own
        );
        if std::thread::panicking() && in_own_server {
            return;
        }
        tracing::debug!(server = ?self.server.id(), "reply handle dropped unanswered");
        let _ = tx.send(Err(Abandoned));
    }
}

impl<R> fmt::Debug for ReplyTo<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplyTo")
            .field("server", &self.server.id())
            .field("answered", &self.tx.is_none())
            .finish()
    }
}
