//! The one message type the ractor actor under a server receives.
//!
//! Every call, cast, info and continue travels as a boxed [`Erased`] envelope that knows
//! which `Handle*` impl of the server runs it, so the server's behaviour stays typed per
//! message while ractor sees a single `Msg` type.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::handle::Shared;
use crate::reply::{Abandoned, ReplySender};
use crate::{
    CallOutcome, Caller, Context, Exit, GenServer, HandleCall, HandleCast, HandleContinue,
    HandleInfo, Outcome,
};

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A message to one server, as carried by its ractor actor.
///
/// Its contents are private: build messages with [`Server`](crate::Server)'s methods. The
/// type is public so that the server's `ActorRef<Envelope<G>>` can be named.
pub struct Envelope<G: GenServer>(pub(crate) Inner<G>);

pub(crate) enum Inner<G: GenServer> {
    /// A call, cast or info message.
    Message(Box<dyn Erased<G>>),
    /// The idle timeout armed with this token.
    Idle(u64, Box<dyn Erased<G>>),
    /// A request to stop with this reason (queued behind earlier messages, as in OTP).
    Stop(Exit),
}

impl<G: GenServer> Envelope<G> {
    pub(crate) fn message(erased: impl Erased<G>) -> Self {
        Envelope(Inner::Message(Box::new(erased)))
    }

    /// The payload of an undelivered cast or info message.
    pub(crate) fn into_payload<M: 'static>(self) -> Option<M> {
        match self.0 {
            Inner::Message(erased) => erased.into_payload().downcast::<M>().ok().map(|m| *m),
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
pub(crate) trait Erased<G: GenServer>: Send + 'static {
    fn run<'a>(
        self: Box<Self>,
        server: &'a G,
        shared: &'a Arc<Shared>,
        state: &'a mut G::State,
        ctx: &'a mut Context<G>,
    ) -> BoxFuture<'a, Outcome>;

    /// The user's message, for a send that failed.
    fn into_payload(self: Box<Self>) -> Box<dyn Any + Send>;
}

/// A request and the channel its reply goes back on.
pub(crate) struct CallEnvelope<M, R> {
    pub(crate) request: M,
    pub(crate) reply: ReplySender<R>,
}

impl<G, M> Erased<G> for CallEnvelope<M, G::Reply>
where
    G: HandleCall<M>,
    M: Send + 'static,
{
    fn run<'a>(
        self: Box<Self>,
        server: &'a G,
        shared: &'a Arc<Shared>,
        state: &'a mut G::State,
        ctx: &'a mut Context<G>,
    ) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let CallEnvelope { request, reply } = *self;
            let mut slot = Some(reply);
            let from = Caller::new(&mut slot, shared);
            let outcome = server.handle_call(request, from, state, ctx).await;
            settle(outcome, slot, ctx)
        })
    }

    fn into_payload(self: Box<Self>) -> Box<dyn Any + Send> {
        Box::new(self.request)
    }
}

/// Answers the caller as the call's outcome says, and turns it into the server's outcome.
fn settle<G: GenServer, R>(
    outcome: CallOutcome<R>,
    slot: Option<ReplySender<R>>,
    ctx: &Context<G>,
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
            answer(slot, reply, ctx);
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
        pub(crate) struct $name<M>(pub(crate) M);

        impl<G, M> Erased<G> for $name<M>
        where
            G: $behaviour<M>,
            M: Send + 'static,
        {
            fn run<'a>(
                self: Box<Self>,
                server: &'a G,
                _shared: &'a Arc<Shared>,
                state: &'a mut G::State,
                ctx: &'a mut Context<G>,
            ) -> BoxFuture<'a, Outcome> {
                Box::pin(server.$callback(self.0, state, ctx))
            }

            fn into_payload(self: Box<Self>) -> Box<dyn Any + Send> {
                Box::new(self.0)
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
