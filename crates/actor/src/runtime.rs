//! The ractor actor that drives a [`GenServer`]: continue-first, panic capture, idle
//! timeout, and `terminate` on every stop path OTP runs it on.
//!
//! The functions a message passes through return an `async move` block rather than being
//! `async fn`s: an `async fn`'s future holds each argument twice (as passed and as bound),
//! and every level nests in the future that ractor moves twice per message.
#![allow(
    clippy::manual_async_fn,
    reason = "an async block holds each argument once, an async fn twice (see above)"
)]

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use ractor::{Actor, ActorCell, ActorProcessingErr, ActorRef, SupervisionEvent};

use crate::current::{guarded, guarded_in};
use crate::envelope::{Envelope, Inner, Work};
use crate::protocol::{Mail, Post};
use crate::record::Record;
use crate::timer::IdleTimer;
use crate::{
    Context, Exit, GenServer, Init, NameError, Naming, Outcome, Pid, Protocol, ProtocolHandler,
    Server,
};

/// Why `init` did not produce a state; read back by `start`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InitRefused {
    #[error("init returned ignore")]
    Ignore,
    #[error("init failed: {0}")]
    Stop(Exit),
    #[error("{name} is already registered by {holder}")]
    Taken { name: String, holder: Pid },
    #[error("{name} cannot be registered: {reason}")]
    NameRefused { name: String, reason: String },
}

/// The ractor handler: the user's behaviour plus what its handles share.
pub(crate) struct Runtime<G: GenServer> {
    pub(crate) server: G,
    pub(crate) shared: Arc<Record>,
    pub(crate) via: Option<Arc<dyn Naming>>,
    /// How the server's handles reach this actor.
    pub(crate) post: Post<G>,
}

/// The ractor handler of a [`Protocol`] server: the same runtime, whose actor receives
/// the server's protocol messages beside its envelopes and hands them to `H`.
pub(crate) struct ProtocolRuntime<G: Protocol, H>(pub(crate) Runtime<G>, PhantomData<fn() -> H>);

impl<G: Protocol, H> ProtocolRuntime<G, H> {
    pub(crate) fn new(runtime: Runtime<G>) -> Self {
        ProtocolRuntime(runtime, PhantomData)
    }
}

impl<G: GenServer> Drop for Runtime<G> {
    /// The last word on every path, killed servers included: their stop hooks have run.
    fn drop(&mut self) {
        // Reached with hooks still pending only when no stop was decided: a kill.
        self.shared.begin_stop(&Exit::Killed);
    }
}

/// The ractor state: the user's state (gone once `terminate` ran) and the context.
pub(crate) struct Slot<G: GenServer> {
    state: Option<G::State>,
    ctx: Context<G>,
    idle: IdleTimer,
    /// The server's own pid, lent to the thread while its callbacks run.
    me: Option<Pid>,
}

type Step = Result<Outcome, Exit>;

impl<G: GenServer> Runtime<G> {
    /// Runs one callback, with the idle request of the previous one cleared.
    ///
    /// The work becomes its callback's future before anything is awaited, so the message
    /// is not held across the await: every server's task would be larger for it.
    fn run<'a>(
        &'a self,
        mut work: Work<G>,
        slot: &'a mut Slot<G>,
    ) -> impl Future<Output = Step> + Send + 'a {
        let Slot { state, ctx, me, .. } = slot;
        let span = self.shared.stats().span();
        let callback = state.as_mut().map(|state| {
            let _ = ctx.take_idle();
            work.run(&self.server, &self.shared, state, ctx)
        });
        async move {
            match callback {
                Some(callback) => guarded_in(me, span, callback).await,
                None => Ok(Outcome::NoReply),
            }
        }
    }

    /// After a callback: run the continuations it asked for, then arm its idle timeout,
    /// or stop.
    async fn after_callback(
        &self,
        mut step: Step,
        slot: &mut Slot<G>,
    ) -> Result<(), ActorProcessingErr> {
        loop {
            match step {
                Ok(Outcome::NoReply) => match slot.ctx.take_continuation() {
                    Some(work) => step = self.run(work, slot).await,
                    None => break,
                },
                Ok(Outcome::Stop(exit)) | Err(exit) => return self.finish(exit, slot).await,
            }
        }
        if let Some((after, make_idle)) = slot.ctx.take_idle() {
            let server = slot.ctx.myself().clone();
            slot.idle.arm(self.shared.runtime(), after, move |token| {
                let _ = server.deliver(Envelope(Inner::Idle(token, make_idle())));
            });
        }
        Ok(())
    }

    /// After a callback's step: done at once in the common case (it asked for nothing).
    ///
    /// Decided before the returned future: only the boxed rest, if any, is held in it.
    fn conclude<'a>(
        &'a self,
        step: Step,
        slot: &'a mut Slot<G>,
    ) -> impl Future<Output = Result<(), ActorProcessingErr>> + Send + 'a {
        let rest = if matches!(step, Ok(Outcome::NoReply)) && slot.ctx.nothing_asked() {
            None
        } else {
            Some(Box::pin(self.after_callback(step, slot)))
        };
        rest_if_any(rest)
    }

    /// Stops the server: `terminate`, then a normal ractor stop or a failure carrying the
    /// typed exit.
    async fn finish(&self, exit: Exit, slot: &mut Slot<G>) -> Result<(), ActorProcessingErr> {
        slot.idle.disarm();
        drop(slot.ctx.take_continuation());
        if exit.is_abnormal() {
            tracing::error!(server = %slot.ctx.myself(), reason = %exit, "server terminating");
        }
        self.terminate(&exit, slot).await;
        // A `StopWithReply` answers now, so its caller can count on `terminate` having run.
        if let Some(reply) = slot.ctx.take_held_reply() {
            if !reply() {
                tracing::debug!(server = %slot.ctx.myself(), "reply dropped: the caller stopped waiting");
            }
        }
        if exit.is_normal() {
            slot.ctx
                .myself()
                .actor_ref()
                .stop(Some(exit.to_stop_reason()));
            Ok(())
        } else {
            Err(Box::new(exit))
        }
    }

    /// Records the exit, runs `terminate` once, and drops the state, so every pending
    /// call and deferred reply sees the exit now rather than when ractor lets go of it.
    async fn terminate(&self, exit: &Exit, slot: &mut Slot<G>) {
        self.shared.decide_exit(exit);
        let Some(mut state) = slot.state.take() else {
            return;
        };
        let terminated = guarded(
            &mut slot.me,
            self.server.terminate(exit, &mut state, &mut slot.ctx),
        )
        .await;
        if let Err(panic) = terminated {
            tracing::error!(server = %slot.ctx.myself(), reason = %panic, "terminate panicked");
        }
        drop(state);
        self.shared.mark_terminated();
    }
}

impl<G: GenServer> Runtime<G> {
    /// Registers the server's name, then runs `init`.
    async fn start(&self, myself: ActorCell, args: G::Args) -> Result<Slot<G>, ActorProcessingErr> {
        self.shared.set_cell(myself.clone());
        let server = Server::from_parts(myself, Arc::clone(&self.shared), self.post);
        if let Some(via) = &self.via {
            if let Err(error) = via.register(&server.pid()) {
                self.shared.begin_stop(&Exit::Normal);
                let name = via.name();
                let refused = match error {
                    NameError::Taken(holder) => InitRefused::Taken { name, holder },
                    NameError::Refused(reason) => InitRefused::NameRefused { name, reason },
                };
                return Err(Box::new(refused));
            }
        }
        let mut me = Some(server.pid());
        let mut ctx = Context::new(server);
        let refused = match guarded(&mut me, self.server.init(args, &mut ctx)).await {
            Ok(Init::Ready(state)) => {
                self.shared.stats().started();
                return Ok(Slot {
                    state: Some(state),
                    ctx,
                    idle: IdleTimer::default(),
                    me,
                });
            }
            Ok(Init::Ignore) => {
                self.shared.begin_stop(&Exit::Normal);
                InitRefused::Ignore
            }
            Ok(Init::Stop(exit)) | Err(exit) => {
                if exit.is_abnormal() {
                    tracing::error!(server = %ctx.myself(), reason = %exit, "server failed to start");
                }
                self.shared.begin_stop(&exit);
                InitRefused::Stop(exit)
            }
        };
        // A server named via a registry is unnamed (above) before `start` returns the error.
        Err(Box::new(refused))
    }

    /// Runs before the first message: the continuation or idle timeout `init` asked for,
    /// if any (boxed: most servers ask for neither, and every server's task holds this
    /// future).
    async fn started(&self, slot: &mut Slot<G>) -> Result<(), ActorProcessingErr> {
        if slot.ctx.nothing_asked() {
            return Ok(());
        }
        Box::pin(self.after_callback(Ok(Outcome::NoReply), slot)).await
    }

    fn on_envelope<'s, 't>(
        &'s self,
        envelope: Envelope<G>,
        slot: &'t mut Slot<G>,
    ) -> impl Future<Output = Result<(), ActorProcessingErr>> + Send + use<'s, 't, G> {
        async move {
            self.shared.stats().handled();
            let work = match envelope.0 {
                Inner::Message(work) => {
                    slot.idle.disarm();
                    work
                }
                Inner::Idle(token, work) => {
                    if !slot.idle.take_if_live(token) {
                        return Ok(());
                    }
                    work
                }
                Inner::Stop(exit) => return Box::pin(self.finish(exit, slot)).await,
            };
            let step = self.run(work, slot).await;
            self.conclude(step, slot).await
        }
    }

    /// A supervision event: only a linked actor's exit reaches the server's `handle_exit`.
    /// The others (a linked child started, …) are answered here, before anything is boxed,
    /// so a supervisor pays no allocation for each child it starts.
    ///
    /// Decided before the returned future starts, which holds only the boxed exit path:
    /// ractor keeps that future inside the actor's message loop, which lives as long as
    /// the actor, so an event held in it would cost every idle server its size.
    fn supervisor_event<'s, 't>(
        &'s self,
        event: SupervisionEvent,
        slot: &'t mut Slot<G>,
    ) -> impl Future<Output = Result<(), ActorProcessingErr>> + Send + use<'s, 't, G> {
        let exited = linked_exit(&event)
            .map(|(actor, exit)| Box::pin(self.linked_actor_exited(actor, exit, slot)));
        rest_if_any(exited)
    }

    async fn linked_actor_exited(
        &self,
        actor: ActorCell,
        exit: Exit,
        slot: &mut Slot<G>,
    ) -> Result<(), ActorProcessingErr> {
        let Some(state) = slot.state.as_mut() else {
            return Ok(());
        };
        slot.idle.disarm();
        let _ = slot.ctx.take_idle();
        let step = guarded(
            &mut slot.me,
            self.server.handle_exit(actor, exit, state, &mut slot.ctx),
        )
        .await;
        self.after_callback(step, slot).await
    }

    /// Only reached with the state still here when the actor was stopped through ractor
    /// directly rather than through arbor: OTP would call that a shutdown.
    async fn stopped(&self, slot: &mut Slot<G>) {
        self.terminate(&Exit::shutdown(), slot).await;
    }
}

impl<G: Protocol> Runtime<G> {
    /// Runs `H`'s `handle_protocol` for a protocol message, with no box in between; an
    /// envelope, rare beside them, is handled behind one.
    ///
    /// A function returning an `async` block rather than an `async fn`: an `async fn`
    /// keeps each argument twice in its future (as given and as bound), and ractor moves
    /// the whole handler future twice per message.
    fn on_mail<'s, 't, H: ProtocolHandler<G>>(
        &'s self,
        mail: Mail<G>,
        slot: &'t mut Slot<G>,
    ) -> impl Future<Output = Result<(), ActorProcessingErr>> + Send + use<'s, 't, G, H> {
        async move {
            let message = match mail {
                Mail::Protocol(message) => message,
                Mail::Envelope(envelope) => {
                    return Box::pin(self.on_envelope(envelope, slot)).await
                }
            };
            self.shared.stats().handled();
            slot.idle.disarm();
            let span = self.shared.stats().span();
            let Slot { state, ctx, me, .. } = &mut *slot;
            let step = match state.as_mut() {
                Some(state) => {
                    let _ = ctx.take_idle();
                    let callback = H::handle_protocol(&self.server, message, state, ctx);
                    guarded_in(me, span, callback).await
                }
                None => Ok(Outcome::NoReply),
            };
            self.conclude(step, slot).await
        }
    }
}

impl<G: GenServer> Actor for Runtime<G> {
    type Msg = Envelope<G>;
    type State = Slot<G>;
    type Arguments = G::Args;

    async fn pre_start(
        &self,
        myself: ActorRef<Envelope<G>>,
        args: G::Args,
    ) -> Result<Slot<G>, ActorProcessingErr> {
        self.start(myself.get_cell(), args).await
    }

    async fn post_start(
        &self,
        _myself: ActorRef<Envelope<G>>,
        slot: &mut Slot<G>,
    ) -> Result<(), ActorProcessingErr> {
        self.started(slot).await
    }

    /// Not an `async fn`: one would hold `myself` and the envelope beside the future it
    /// returns, which ractor moves twice per message.
    fn handle<'s, 't>(
        &'s self,
        _myself: ActorRef<Envelope<G>>,
        envelope: Envelope<G>,
        slot: &'t mut Slot<G>,
    ) -> impl Future<Output = Result<(), ActorProcessingErr>> + Send + use<'s, 't, G> {
        self.on_envelope(envelope, slot)
    }

    fn handle_supervisor_evt<'s, 't>(
        &'s self,
        _myself: ActorRef<Envelope<G>>,
        event: SupervisionEvent,
        slot: &'t mut Slot<G>,
    ) -> impl Future<Output = Result<(), ActorProcessingErr>> + Send + use<'s, 't, G> {
        self.supervisor_event(event, slot)
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Envelope<G>>,
        slot: &mut Slot<G>,
    ) -> Result<(), ActorProcessingErr> {
        self.stopped(slot).await;
        Ok(())
    }
}

impl<G: Protocol, H: ProtocolHandler<G>> Actor for ProtocolRuntime<G, H> {
    type Msg = Mail<G>;
    type State = Slot<G>;
    type Arguments = G::Args;

    async fn pre_start(
        &self,
        myself: ActorRef<Mail<G>>,
        args: G::Args,
    ) -> Result<Slot<G>, ActorProcessingErr> {
        self.0.start(myself.get_cell(), args).await
    }

    async fn post_start(
        &self,
        _myself: ActorRef<Mail<G>>,
        slot: &mut Slot<G>,
    ) -> Result<(), ActorProcessingErr> {
        self.0.started(slot).await
    }

    /// Not an `async fn`, for the same reason as [`Runtime`]'s.
    fn handle<'s, 't>(
        &'s self,
        _myself: ActorRef<Mail<G>>,
        mail: Mail<G>,
        slot: &'t mut Slot<G>,
    ) -> impl Future<Output = Result<(), ActorProcessingErr>> + Send + use<'s, 't, G, H> {
        self.0.on_mail::<H>(mail, slot)
    }

    fn handle_supervisor_evt<'s, 't>(
        &'s self,
        _myself: ActorRef<Mail<G>>,
        event: SupervisionEvent,
        slot: &'t mut Slot<G>,
    ) -> impl Future<Output = Result<(), ActorProcessingErr>> + Send + use<'s, 't, G, H> {
        self.0.supervisor_event(event, slot)
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Mail<G>>,
        slot: &mut Slot<G>,
    ) -> Result<(), ActorProcessingErr> {
        self.0.stopped(slot).await;
        Ok(())
    }
}

/// Awaits `rest`, the work a message still needs once decided, if there is any. The
/// returned future holds `rest` and nothing else.
fn rest_if_any<F>(rest: Option<F>) -> impl Future<Output = Result<(), ActorProcessingErr>>
where
    F: Future<Output = Result<(), ActorProcessingErr>>,
{
    async move {
        match rest {
            Some(rest) => rest.await,
            None => Ok(()),
        }
    }
}

/// The actor and exit of a linked actor's exit; `None` for the other supervision events.
fn linked_exit(event: &SupervisionEvent) -> Option<(ActorCell, Exit)> {
    let exit = Exit::from_event(event)?;
    Some((event.actor_cell()?.clone(), exit))
}
