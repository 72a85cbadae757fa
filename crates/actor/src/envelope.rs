//! The one message type the ractor actor under a server receives.
//!
//! Every call, cast, info and continue travels as a type-erased [`Work`] that knows which
//! `Handle*` impl of the server runs it, so the server's behaviour stays typed per message
//! while ractor sees a single `Msg` type.
//!
//! The erased message is a small-buffer box of two words. The payload sits in an `Option`
//! (the callback takes it out of the box), so a cast or info message of one word, or a call
//! whose request is zero-sized, travels inline in the envelope: it costs no allocation of
//! its own on the sender's thread (and no free on the server's). The callback's future stays a plain box: it is allocated and freed on the
//! server's thread, which is cheap, and holding it inline made every server's task larger
//! and every poll copy more (measured in `docs/benchmarks.md`).

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use ractor::ActorCell;
use smallbox::{smallbox, SmallBox};

use crate::record::Record;
use crate::reply::{Abandoned, ReplySender};
use crate::{
    CallOutcome, Caller, Context, Exit, GenServer, HandleCall, HandleCast, HandleContinue,
    HandleInfo, Outcome,
};

/// Room for a message inside its envelope: an `Option` of a one-word message, or of a
/// zero-sized request with its reply channel. Larger messages go to the heap. More room would make every queued envelope larger,
/// which cost more than the allocation it saves when mailboxes fill up.
type MessageSpace = [usize; 2];

/// One message, erased to the server it is for.
pub(crate) type Work<G> = SmallBox<dyn Erased<G>, MessageSpace>;

/// The future of one callback, erased.
pub(crate) type CallbackFuture<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// Erases `message` into the work that runs its callback.
pub(crate) fn work<G: GenServer>(message: impl Erased<G>) -> Work<G> {
    smallbox!(message)
}

/// A message to one server, as carried by its ractor actor.
///
/// Its contents are private: build messages with [`Server`](crate::Server)'s methods. The
/// type is public so that the server's `ActorRef<Envelope<G>>` can be named.
pub struct Envelope<G: GenServer>(pub(crate) Inner<G>);

pub(crate) enum Inner<G: GenServer> {
    /// A call, cast or info message.
    Message(Work<G>),
    /// The idle timeout armed with this token.
    Idle(u64, Work<G>),
    /// A request to stop with this reason (queued behind earlier messages, as in OTP).
    Stop(Exit),
}

impl<G: GenServer> Envelope<G> {
    pub(crate) fn message(erased: impl Erased<G>) -> Self {
        Envelope(Inner::Message(work(erased)))
    }

    /// The payload of an undelivered cast or info message.
    pub(crate) fn into_payload<M: 'static>(self) -> Option<M> {
        match self.0 {
            Inner::Message(mut erased) => erased.take_payload()?.downcast::<M>().ok().map(|m| *m),
            Inner::Idle(..) | Inner::Stop(_) => None,
        }
    }
}

impl<G: GenServer> fmt::Debug for Envelope<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.0 {
            Inner::Message(_) => "message",
            Inner::Idle(..) => "idle timeout",
            Inner::Stop(_) => "stop",
        };
        f.debug_tuple("Envelope").field(&kind).finish()
    }
}

/// One message, type-erased, that runs the matching callback of server `G`.
///
/// Its payload is taken out once, by `run` or by `take_payload`: the work is dropped after.
pub(crate) trait Erased<G: GenServer>: Send + 'static {
    fn run<'a>(
        &mut self,
        server: &'a G,
        shared: &'a Arc<Record>,
        state: &'a mut G::State,
        ctx: &'a mut Context<G>,
    ) -> CallbackFuture<'a>;

    /// The user's message, for a send that failed.
    fn take_payload(&mut self) -> Option<Box<dyn Any + Send>>;
}

/// The future of work whose payload was already taken: it does nothing.
fn spent<'a>() -> CallbackFuture<'a> {
    Box::pin(std::future::ready(Outcome::NoReply))
}

/// A request and the channel its reply goes back on.
pub(crate) struct CallEnvelope<M, R>(Option<(M, ReplySender<R>)>);

impl<M, R> CallEnvelope<M, R> {
    pub(crate) fn new(request: M, reply: ReplySender<R>) -> Self {
        CallEnvelope(Some((request, reply)))
    }
}

impl<G, M> Erased<G> for CallEnvelope<M, G::Reply>
where
    G: HandleCall<M>,
    M: Send + 'static,
{
    fn run<'a>(
        &mut self,
        server: &'a G,
        shared: &'a Arc<Record>,
        state: &'a mut G::State,
        ctx: &'a mut Context<G>,
    ) -> CallbackFuture<'a> {
        let Some((request, reply)) = self.0.take() else {
            return spent();
        };
        Box::pin(async move {
            let mut slot = Some(reply);
            let from = Caller::new(&mut slot, shared);
            let outcome = server.handle_call(request, from, state, ctx).await;
            conclude_call(outcome, slot, ctx)
        })
    }

    fn take_payload(&mut self) -> Option<Box<dyn Any + Send>> {
        let (request, _reply) = self.0.take()?;
        Some(Box::new(request))
    }
}

/// Answers the caller as the call's outcome says, and turns it into the server's outcome.
fn conclude_call<G: GenServer, R: Send + 'static>(
    outcome: CallOutcome<R>,
    slot: Option<ReplySender<R>>,
    ctx: &mut Context<G>,
) -> Outcome {
    match outcome {
        CallOutcome::Reply(reply) => {
            answer(slot, reply, ctx);
            Outcome::NoReply
        }
        CallOutcome::NoReply => {
            if let Some(tx) = slot {
                tracing::debug!(server = %ctx.myself(), "call neither answered nor deferred");
                let _ = tx.send(Err(Abandoned));
            }
            Outcome::NoReply
        }
        CallOutcome::Stop(exit) => {
            // Decided before the caller's channel drops, so the caller reads this reason.
            ctx.myself().shared().decide_exit(&exit);
            drop(slot);
            Outcome::Stop(exit)
        }
        CallOutcome::StopWithReply(exit, reply) => {
            // As in OTP, the caller gets its reply once `terminate` has run: the runtime
            // sends it as the last step of the stop, before the actor goes.
            match slot {
                Some(tx) => ctx.hold_reply(Box::new(move || tx.send(Ok(reply)).is_ok())),
                None => answer(slot, reply, ctx),
            }
            Outcome::Stop(exit)
        }
    }
}

fn answer<G: GenServer, R>(slot: Option<ReplySender<R>>, reply: R, ctx: &Context<G>) {
    match slot {
        // A caller that already timed out is gone: its late reply is dropped here.
        Some(tx) => {
            if tx.send(Ok(reply)).is_err() {
                tracing::debug!(server = %ctx.myself(), "reply dropped: the caller stopped waiting");
            }
        }
        None => tracing::warn!(
            server = %ctx.myself(),
            "reply ignored: this call's reply handle was deferred; answer through it"
        ),
    }
}

/// Envelopes for the messages that expect no reply, one per callback kind.
macro_rules! one_way_envelope {
    ($(#[$doc:meta])* $name:ident, $behaviour:ident, $callback:ident) => {
        $(#[$doc])*
        pub(crate) struct $name<M>(Option<M>);

        impl<M> $name<M> {
            pub(crate) fn new(message: M) -> Self {
                $name(Some(message))
            }
        }

        impl<G, M> Erased<G> for $name<M>
        where
            G: $behaviour<M>,
            M: Send + 'static,
        {
            fn run<'a>(
                &mut self,
                server: &'a G,
                _shared: &'a Arc<Record>,
                state: &'a mut G::State,
                ctx: &'a mut Context<G>,
            ) -> CallbackFuture<'a> {
                match self.0.take() {
                    Some(message) => Box::pin(server.$callback(message, state, ctx)),
                    None => spent(),
                }
            }

            fn take_payload(&mut self) -> Option<Box<dyn Any + Send>> {
                Some(Box::new(self.0.take()?))
            }
        }
    };
}

one_way_envelope!(
    /// A cast, for `HandleCast`.
    CastEnvelope,
    HandleCast,
    handle_cast
);
one_way_envelope!(
    /// A plain message, for `HandleInfo`.
    InfoEnvelope,
    HandleInfo,
    handle_info
);
one_way_envelope!(
    /// A continuation, for `HandleContinue`.
    ContinueEnvelope,
    HandleContinue,
    handle_continue
);

/// An exit signal sent with [`Pid::exit_signal`](crate::Pid::exit_signal): the server's
/// `handle_exit` runs as if `from` were linked under it.
struct ExitSignal(Option<(ActorCell, Exit)>);

impl<G: GenServer> Erased<G> for ExitSignal {
    fn run<'a>(
        &mut self,
        server: &'a G,
        _shared: &'a Arc<Record>,
        state: &'a mut G::State,
        ctx: &'a mut Context<G>,
    ) -> CallbackFuture<'a> {
        match self.0.take() {
            Some((from, exit)) => Box::pin(server.handle_exit(from, exit, state, ctx)),
            None => spent(),
        }
    }

    fn take_payload(&mut self) -> Option<Box<dyn Any + Send>> {
        None
    }
}

/// The envelope of an exit signal from `from`, for the server's actor.
pub(crate) fn exit_signal<G: GenServer>(from: ActorCell, exit: Exit) -> Envelope<G> {
    Envelope::message(ExitSignal(Some((from, exit))))
}

/// Queues an exit signal for the server of behaviour `G` whose cell is `server`; `false`
/// when it is not running. A plain function, so every server's record holds a pointer to
/// its own instance without allocating.
pub(crate) fn send_exit_signal<G: GenServer>(
    server: &ActorCell,
    from: ActorCell,
    exit: Exit,
) -> bool {
    crate::protocol::post_envelope(server, exit_signal::<G>(from, exit)).is_ok()
}
