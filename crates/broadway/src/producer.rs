//! Where a pipeline's messages come from: a [`MessageProducer`] (Broadway's producer
//! module), run inside an arbor producer stage that applies the transformer, the rate
//! limit and the draining at shutdown.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use arbor_actor::{Exit, Init, Outcome, TimerRef};
use arbor_stage::{GenStage, NoEvents, Producer, StageContext, StageInfo};
use thiserror::Error;

use crate::message::Message;
use crate::pipeline::BoxError;
use crate::rate_limit::RateLimiter;

/// A source of events for a pipeline (Broadway's producer behaviour).
///
/// Events come out two ways: as the answer to demand ([`handle_demand`]), or pushed at
/// any time through the [`Pusher`] given to [`init`] (a broker's deliveries). Either way
/// the pipeline never hands its processors more than they asked for: pushed events wait
/// in the producer stage until there is demand.
///
/// # Examples
///
/// ```
/// use arbor_broadway::{BoxError, Message, MessageProducer, Pusher};
///
/// /// Counts up from 0, as fast as demand allows.
/// struct Counter;
/// impl MessageProducer for Counter {
///     type Event = Message<u64>;
///     type State = u64;
///     async fn init(&self, _index: usize, _pusher: Pusher<Message<u64>>) -> Result<u64, BoxError> {
///         Ok(0)
///     }
///     async fn handle_demand(&self, demand: usize, next: &mut u64) -> Vec<Message<u64>> {
///         let start = *next;
///         *next += demand as u64;
///         (start..*next).map(Message::new).collect()
///     }
/// }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut next = 5;
/// let messages = Counter.handle_demand(3, &mut next).await;
/// assert_eq!(messages.iter().map(|m| *m.data()).collect::<Vec<_>>(), [5, 6, 7]);
/// # }
/// ```
///
/// [`handle_demand`]: Self::handle_demand
/// [`init`]: Self::init
pub trait MessageProducer: Send + Sync + 'static {
    /// What the producer emits: [`Message`]s, or raw events that the pipeline's
    /// transformer turns into messages.
    type Event: Send + 'static;
    /// The producer's state.
    type State: Send + 'static;

    /// Starts producer number `index` (of the pipeline's `concurrency`); `pusher` emits
    /// events at any time. An `Err` fails the producer's start.
    fn init(
        &self,
        index: usize,
        pusher: Pusher<Self::Event>,
    ) -> impl Future<Output = Result<Self::State, BoxError>> + Send;

    /// Emits up to `demand` events (fewer is fine; the rest of the demand stays open).
    /// Default: none, for producers that only push.
    fn handle_demand(
        &self,
        demand: usize,
        state: &mut Self::State,
    ) -> impl Future<Output = Vec<Self::Event>> + Send {
        let _ = (demand, state);
        async { Vec::new() }
    }

    /// The pipeline is shutting down: stop taking new work from the source. Events
    /// pushed before this returns are still processed; none may be pushed after.
    fn prepare_for_draining(&self, state: &mut Self::State) -> impl Future<Output = ()> + Send {
        let _ = state;
        async {}
    }
}

/// Emits events into a running producer stage, from anywhere (a task reading a broker).
pub struct Pusher<E> {
    send: Arc<dyn Fn(Vec<E>) -> bool + Send + Sync>,
}

/// Returned by [`Pusher::push`] and by the pipeline's push helpers.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PushError {
    /// The producer stage is not running (stopped, or being restarted).
    #[error("the producer stage is not running")]
    ProducerDown,
}

impl<E> Pusher<E> {
    pub(crate) fn new(send: impl Fn(Vec<E>) -> bool + Send + Sync + 'static) -> Self {
        Pusher {
            send: Arc::new(send),
        }
    }

    /// Emits `events` from the producer.
    ///
    /// # Errors
    ///
    /// [`PushError::ProducerDown`] when the producer stage has stopped; the events are
    /// dropped (a broker redelivers what was not acknowledged).
    pub fn push(&self, events: Vec<E>) -> Result<(), PushError> {
        if (self.send)(events) {
            Ok(())
        } else {
            Err(PushError::ProducerDown)
        }
    }
}

impl<E> Clone for Pusher<E> {
    fn clone(&self) -> Self {
        Pusher {
            send: Arc::clone(&self.send),
        }
    }
}

impl<E> fmt::Debug for Pusher<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pusher").finish_non_exhaustive()
    }
}

/// Turns a producer's event into a message (Broadway's `transformer`).
pub(crate) type Transform<E, T> = Arc<dyn Fn(E) -> Message<T> + Send + Sync>;

/// The arbor producer stage that runs a [`MessageProducer`].
pub(crate) struct ProducerStage<Src: MessageProducer, T> {
    pub(crate) source: Arc<Src>,
    pub(crate) transform: Transform<Src::Event, T>,
    pub(crate) limiter: Option<Arc<RateLimiter>>,
}

impl<Src: MessageProducer, T> Clone for ProducerStage<Src, T> {
    fn clone(&self) -> Self {
        ProducerStage {
            source: Arc::clone(&self.source),
            transform: Arc::clone(&self.transform),
            limiter: self.limiter.clone(),
        }
    }
}

pub(crate) struct ProducerState<S, T> {
    inner: S,
    /// Messages waiting for the rate limit's next window.
    held: VecDeque<Message<T>>,
    draining: bool,
    finishing: bool,
    resume: Option<TimerRef>,
}

/// Events pushed through a [`Pusher`].
pub(crate) struct Pushed<E>(pub(crate) Vec<E>);
/// Ready-made messages pushed by the pipeline's test helpers (no transformer).
pub(crate) struct PushMessages<T>(pub(crate) Vec<Message<T>>);
/// Shutdown, first step: stop taking work.
pub(crate) struct Drain;
/// Shutdown, second step: everything pushed so far is in; stop once it is delivered.
struct Finish;
/// The rate limit's window renewed.
struct Resume;

impl<Src: MessageProducer, T: Send + 'static> ProducerStage<Src, T> {
    /// Emits what the rate limit allows, and stops after delivery once draining is done.
    fn release(&self, state: &mut ProducerState<Src::State, T>, ctx: &mut StageContext<Self>) {
        match &self.limiter {
            None => ctx.emit_all(state.held.drain(..)),
            Some(limiter) => {
                let grant = limiter.take(state.held.len());
                ctx.emit_all(state.held.drain(..grant.granted));
                if let (Some(wait), None) = (grant.retry_in, &state.resume) {
                    state.resume = Some(ctx.send_after(wait, Resume));
                }
            }
        }
        if state.finishing && state.held.is_empty() {
            ctx.stop_after_delivery(Exit::Normal);
        }
    }
}

impl<Src: MessageProducer, T: Send + 'static> GenStage for ProducerStage<Src, T> {
    type Args = usize;
    type State = ProducerState<Src::State, T>;
    type In = NoEvents;
    type Out = Message<T>;

    async fn init(&self, index: usize, ctx: &mut StageContext<Self>) -> Init<Self::State> {
        let me = ctx.myself().clone();
        let pusher = Pusher::new(move |events| me.send(Pushed(events)).is_ok());
        match self.source.init(index, pusher).await {
            Ok(inner) => Init::Ready(ProducerState {
                inner,
                held: VecDeque::new(),
                draining: false,
                finishing: false,
                resume: None,
            }),
            Err(error) => {
                tracing::error!(producer = index, %error, "producer failed to start");
                Init::Stop(Exit::error(error))
            }
        }
    }
}

impl<Src: MessageProducer, T: Send + 'static> Producer for ProducerStage<Src, T> {
    async fn handle_demand(
        &self,
        demand: usize,
        state: &mut Self::State,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        if state.draining {
            return Outcome::NoReply;
        }
        let events = self.source.handle_demand(demand, &mut state.inner).await;
        state
            .held
            .extend(events.into_iter().map(|e| (self.transform)(e)));
        self.release(state, ctx);
        Outcome::NoReply
    }
}

impl<Src: MessageProducer, T: Send + 'static> StageInfo<Pushed<Src::Event>>
    for ProducerStage<Src, T>
{
    async fn handle_info(
        &self,
        Pushed(events): Pushed<Src::Event>,
        state: &mut Self::State,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        state
            .held
            .extend(events.into_iter().map(|e| (self.transform)(e)));
        self.release(state, ctx);
        Outcome::NoReply
    }
}

impl<Src: MessageProducer, T: Send + 'static> StageInfo<PushMessages<T>> for ProducerStage<Src, T> {
    async fn handle_info(
        &self,
        PushMessages(messages): PushMessages<T>,
        state: &mut Self::State,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        state.held.extend(messages);
        self.release(state, ctx);
        Outcome::NoReply
    }
}

impl<Src: MessageProducer, T: Send + 'static> StageInfo<Drain> for ProducerStage<Src, T> {
    async fn handle_info(
        &self,
        _: Drain,
        state: &mut Self::State,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        if !state.draining {
            state.draining = true;
            self.source.prepare_for_draining(&mut state.inner).await;
            // Behind whatever the source pushed before it stopped.
            if ctx.myself().send(Finish).is_err() {
                return Outcome::Stop(Exit::Normal);
            }
        }
        Outcome::NoReply
    }
}

impl<Src: MessageProducer, T: Send + 'static> StageInfo<Finish> for ProducerStage<Src, T> {
    async fn handle_info(
        &self,
        _: Finish,
        state: &mut Self::State,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        state.finishing = true;
        self.release(state, ctx);
        Outcome::NoReply
    }
}

impl<Src: MessageProducer, T: Send + 'static> StageInfo<Resume> for ProducerStage<Src, T> {
    async fn handle_info(
        &self,
        _: Resume,
        state: &mut Self::State,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        state.resume = None;
        self.release(state, ctx);
        Outcome::NoReply
    }
}
