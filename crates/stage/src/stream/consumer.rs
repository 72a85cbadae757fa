//! A `Stream` that consumes from producers with back-pressure: gen_stage's
//! `GenStage.stream`.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::poll_fn;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use arbor_actor::{Exit, Init, Outcome};
use futures_core::Stream;
use tokio::sync::mpsc;

use crate::{
    Cancel, Cancelled, Consumer, DemandAsk, DemandCounter, GenStage, NoEvents, Side, Stage,
    StageContext, StageStartError, SubscribeOptions, SubscribeTo, SubscriptionInfo,
    SubscriptionTag,
};

/// Starts building an [`EventStream`]: name its producers with
/// [`StreamBuilder::subscribe_to`], then [`StreamBuilder::start`] it (gen_stage's
/// `GenStage.stream`).
///
/// # Examples
///
/// ```
/// use arbor_stage::{Cancel, SubscribeOptions};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let odds = arbor_stage::from_iter([1, 3, 5]).start().await?;
/// let evens = arbor_stage::from_iter([2, 4]).start().await?;
/// let mut events = arbor_stage::stream()
///     .subscribe_to(&odds, SubscribeOptions::new().max_demand(2))
///     .subscribe_to(&evens, SubscribeOptions::new().cancel(Cancel::Transient))
///     .start()
///     .await?;
/// let mut all = Vec::new();
/// while let Some(number) = events.next().await {
///     all.push(number?);
/// }
/// all.sort();
/// assert_eq!(all, vec![1, 2, 3, 4, 5]);
/// # Ok(())
/// # }
/// ```
pub fn stream<E: Send + 'static>() -> StreamBuilder<E> {
    StreamBuilder {
        subscriptions: Vec::new(),
    }
}

/// The producers an [`EventStream`] will consume from, with their subscription
/// options; made by [`stream`].
#[must_use = "a stream builder does nothing until `start`"]
pub struct StreamBuilder<E> {
    subscriptions: Vec<(SubscribeTo<E>, SubscribeOptions<E>)>,
}

impl<E: Send + 'static> StreamBuilder<E> {
    /// Consumes from `producer` too. `options.max_demand` bounds how many of its events
    /// the stream holds unread; `options.cancel` says what its exit does to the stream
    /// (see [`EventStream`]).
    pub fn subscribe_to(
        mut self,
        producer: impl Into<SubscribeTo<E>>,
        options: SubscribeOptions<E>,
    ) -> Self {
        self.subscriptions.push((producer.into(), options));
        self
    }

    /// Starts the stream's consumer stage and subscribes it to every producer, in
    /// order; returns once all subscriptions are made. A stream with no producer (or
    /// whose every subscription is `Temporary` and failed) is empty.
    ///
    /// # Errors
    ///
    /// [`StageStartError::InvalidOptions`] when some subscription's options are invalid,
    /// before anything starts; [`StageStartError::Start`] when the consumer stage does
    /// not start; [`StageStartError::Subscribe`] when a `Permanent` or `Transient`
    /// subscription fails (its producer is not running, or its name does not resolve), as
    /// a consumer's start fails in that case.
    ///
    /// # Cancel safety
    ///
    /// As [`StageBuilder::start`](crate::StageBuilder::start): no stage is left running.
    pub async fn start(self) -> Result<EventStream<E>, StageStartError> {
        let demands = self
            .subscriptions
            .iter()
            .map(|(_, options)| options.demand())
            .collect::<Result<Vec<_>, _>>()?;
        let (to_stream, deliveries) = mpsc::unbounded_channel();
        let stage = Stage::consumer(Forwarder(PhantomData), to_stream)
            .start()
            .await?;
        let mut events = EventStream {
            stage,
            deliveries,
            upstreams: HashMap::new(),
            unread: VecDeque::new(),
            end: None,
        };
        for ((to, options), demand) in self.subscriptions.into_iter().zip(demands) {
            events.subscribe(to, options, demand).await?;
        }
        if events.upstreams.is_empty() {
            events.finish(None);
        }
        Ok(events)
    }
}

impl<E: Send + 'static> fmt::Debug for StreamBuilder<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let producers: Vec<&str> = self.subscriptions.iter().map(|(to, _)| to.name()).collect();
        f.debug_struct("StreamBuilder")
            .field("producers", &producers)
            .finish()
    }
}

/// A producer of an [`EventStream`] exited abnormally (or cancelled the subscription
/// with an abnormal reason) while its subscription was `Permanent` or `Transient`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("producer {producer} exited: {reason}")]
pub struct StreamError {
    /// The producer's name or pid.
    pub producer: String,
    /// Why its subscription ended.
    pub reason: Exit,
}

/// The events of one or more producers, as a [`Stream`], read with back-pressure: the
/// producers emit only as the stream is read (gen_stage's `GenStage.stream`).
///
/// Made by [`stream`]. Behind it runs a consumer stage in manual demand mode that
/// hands each batch it receives to the stream. The stream asks each producer for its
/// `max_demand` when it subscribes, and asks again, by batches of
/// `max_demand - min_demand`, only as its reader takes the events: at most
/// `max_demand` events of each producer are ever asked for and not yet read.
///
/// # How it ends
///
/// - Once every producer has finished (stopped or cancelled the subscription with a
///   normal reason: [`Exit::Normal`] or a shutdown) and its events have been read, the
///   stream returns `None`.
/// - If a producer exits abnormally and its subscription is `Permanent` or
///   `Transient`, the stream yields the events received before, then one
///   `Err(`[`StreamError`]`)` naming the producer and its reason, then `None`; its
///   other producers see their subscription end normally. This is how Rust reports what gen_stage does by
///   exiting the process that reads the stream: the error cannot be mistaken for the
///   end of the data, and `?` passes it on.
/// - A `Temporary` subscription's end, whatever the reason, only ends that
///   subscription (an abnormal one is logged).
///
/// Unlike gen_stage, a `Permanent` subscription whose producer finishes normally does
/// not end the stream while other producers still run: for the reader, a normal end
/// is just the end of that producer's events, so `Permanent` and `Transient` act
/// alike here.
///
/// Dropping the stream stops its consumer stage (its producers see the subscription
/// end normally and go on); so does reaching its end.
///
/// # Examples
///
/// ```
/// use arbor_stage::SubscribeOptions;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // An endless producer: the stream asks it for 10 at a time as it is read.
/// let naturals = arbor_stage::from_iter(0_u64..).start().await?;
/// let mut events = arbor_stage::stream()
///     .subscribe_to(&naturals, SubscribeOptions::new().max_demand(10))
///     .start()
///     .await?;
/// let mut first = Vec::new();
/// for _ in 0..25 {
///     if let Some(number) = events.next().await {
///         first.push(number?);
///     }
/// }
/// assert_eq!(first, (0..25).collect::<Vec<_>>());
/// drop(events); // stops the stream's consumer; the producer goes on
/// assert!(naturals.is_alive());
/// # Ok(())
/// # }
/// ```
pub struct EventStream<E: Send + 'static> {
    stage: Stage<Forwarder<E>>,
    deliveries: mpsc::UnboundedReceiver<Delivery<E>>,
    upstreams: HashMap<SubscriptionTag, Upstream>,
    /// Received events not read yet, in batches, each with the ask to send once it is
    /// read.
    unread: VecDeque<Unread<E>>,
    /// Set once the stream has ended; holds the failure it has not reported yet.
    end: Option<Option<StreamError>>,
}

/// One subscription, seen from the stream.
struct Upstream {
    producer: String,
    cancel: Cancel,
    demand: DemandCounter,
}

/// A batch of received events being read.
struct Unread<E> {
    tag: SubscriptionTag,
    events: std::vec::IntoIter<E>,
    ask: usize,
}

impl<E: Send + 'static> EventStream<E> {
    /// The next event; `None` once the stream has ended (see [`EventStream`]).
    ///
    /// # Errors
    ///
    /// [`StreamError`], once, when a `Permanent` or `Transient` producer exited
    /// abnormally.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: an event is taken only when it is returned.
    pub async fn next(&mut self) -> Option<Result<E, StreamError>> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    async fn subscribe(
        &mut self,
        to: SubscribeTo<E>,
        options: SubscribeOptions<E>,
        demand: DemandCounter,
    ) -> Result<(), StageStartError> {
        let producer = to.name().to_string();
        let cancel = options.cancel;
        // The stream applies the cancel mode itself: the stage must neither stop on a
        // producer's normal end while others run, nor before the stream has read the
        // events that came first.
        let subscribed = self
            .stage
            .subscribe(to, options.cancel(Cancel::Temporary))
            .await;
        let tag = match subscribed {
            Ok(tag) => tag,
            Err(error) if cancel == Cancel::Temporary => {
                tracing::warn!(%producer, error = &error as &dyn std::error::Error, "temporary stream subscription failed");
                return Ok(());
            }
            Err(error) => return Err(StageStartError::Subscribe(error)),
        };
        self.ask(tag, demand.initial_ask());
        let upstream = Upstream {
            producer,
            cancel,
            demand,
        };
        self.upstreams.insert(tag, upstream);
        Ok(())
    }

    fn receive(&mut self, delivery: Delivery<E>) {
        match delivery {
            Delivery::Events(tag, events) => self.received(tag, events),
            Delivery::Ended(tag, reason) => self.ended(tag, reason),
        }
    }

    fn received(&mut self, tag: SubscriptionTag, events: Vec<E>) {
        let Some(upstream) = self.upstreams.get_mut(&tag) else {
            tracing::debug!(stage = %self.stage, subscription = %tag, dropped = events.len(), "events of an ended subscription dropped");
            return;
        };
        let batches = upstream.demand.split(events).batches;
        self.unread.extend(batches.into_iter().map(|batch| Unread {
            tag,
            events: batch.events.into_iter(),
            ask: batch.ask,
        }));
    }

    fn ended(&mut self, tag: SubscriptionTag, reason: Exit) {
        let Some(Upstream {
            producer, cancel, ..
        }) = self.upstreams.remove(&tag)
        else {
            return;
        };
        if reason.is_abnormal() {
            tracing::warn!(stage = %self.stage, %producer, %reason, ?cancel, "stream producer exited abnormally");
            if cancel != Cancel::Temporary {
                self.finish(Some(StreamError { producer, reason }));
                return;
            }
        }
        if self.upstreams.is_empty() {
            self.finish(None);
        }
    }

    /// Takes the next unread event, asking its producer for more when it is the last of
    /// its batch.
    fn take_event(&mut self) -> Option<E> {
        let batch = self.unread.front_mut()?;
        let event = batch.events.next();
        if batch.events.as_slice().is_empty() {
            if let Some(read) = self.unread.pop_front() {
                self.ask(read.tag, read.ask);
            }
        }
        event
    }

    fn ask(&self, tag: SubscriptionTag, demand: usize) {
        if demand > 0 && self.stage.ask_nowait(tag, demand).is_err() {
            // The stage is gone: the closed channel ends the stream.
            tracing::debug!(stage = %self.stage, subscription = %tag, "ask after the stream's stage stopped");
        }
    }

    /// Ends the stream, reporting `failure` first if there is one, and stops the stage.
    fn finish(&mut self, failure: Option<StreamError>) {
        self.end = Some(failure);
        self.upstreams.clear();
        self.deliveries.close();
        self.stop_stage();
    }

    fn stop_stage(&self) {
        // Its producers see the subscription end normally: the reader is done with them.
        if self.stage.stop(Exit::Normal).is_err() {
            tracing::debug!(stage = %self.stage, "the stream's stage had already stopped");
        }
    }
}

impl<E: Send + 'static> Stream for EventStream<E> {
    type Item = Result<E, StreamError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(event) = this.take_event() {
                return Poll::Ready(Some(Ok(event)));
            }
            if let Some(end) = &mut this.end {
                return Poll::Ready(end.take().map(Err));
            }
            match this.deliveries.poll_recv(cx) {
                Poll::Ready(Some(delivery)) => this.receive(delivery),
                Poll::Ready(None) => this.finish(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

// Events are only ever moved out of the stream's buffers, never pinned in them, so the
// stream is `Unpin` whatever `E` is (a `vec::IntoIter<E>` alone would require `E: Unpin`).
impl<E: Send + 'static> Unpin for EventStream<E> {}

impl<E: Send + 'static> Drop for EventStream<E> {
    fn drop(&mut self) {
        if self.end.is_none() {
            self.stop_stage();
        }
    }
}

impl<E: Send + 'static> fmt::Debug for EventStream<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("stage", &self.stage)
            .field("producers", &self.upstreams.len())
            .field("ended", &self.end.is_some())
            .finish_non_exhaustive()
    }
}

/// What the stream's stage hands to the stream, in the order it happened.
enum Delivery<E> {
    Events(SubscriptionTag, Vec<E>),
    Ended(SubscriptionTag, Exit),
}

/// The stream's consumer stage: it forwards every batch and every subscription's end
/// to the stream, and leaves asking to the stream.
struct Forwarder<E>(PhantomData<fn() -> E>);

impl<E: Send + 'static> Forwarder<E> {
    fn forward(to_stream: &mpsc::UnboundedSender<Delivery<E>>, delivery: Delivery<E>) -> Outcome {
        match to_stream.send(delivery) {
            Ok(()) => Outcome::NoReply,
            // The stream was dropped: nobody reads any more.
            Err(_) => Outcome::Stop(Exit::Normal),
        }
    }
}

impl<E: Send + 'static> GenStage for Forwarder<E> {
    // Unbounded, yet never long: it holds at most what the stream asked for.
    type Args = mpsc::UnboundedSender<Delivery<E>>;
    type State = mpsc::UnboundedSender<Delivery<E>>;
    type In = E;
    type Out = NoEvents;

    async fn init(&self, to_stream: Self::Args, _: &mut StageContext<Self>) -> Init<Self::State> {
        Init::Ready(to_stream)
    }

    async fn handle_subscribe(
        &self,
        _: Side,
        _: SubscriptionInfo,
        _: &mut Self::State,
        _: &mut StageContext<Self>,
    ) -> DemandAsk {
        DemandAsk::Manual
    }

    async fn handle_cancel(
        &self,
        _: Side,
        why: Cancelled,
        tag: SubscriptionTag,
        to_stream: &mut Self::State,
        _: &mut StageContext<Self>,
    ) -> Outcome {
        let (Cancelled::Cancel(reason) | Cancelled::Down(reason)) = why;
        Self::forward(to_stream, Delivery::Ended(tag, reason))
    }
}

impl<E: Send + 'static> Consumer for Forwarder<E> {
    async fn handle_events(
        &self,
        events: Vec<E>,
        from: SubscriptionTag,
        to_stream: &mut Self::State,
        _: &mut StageContext<Self>,
    ) -> Outcome {
        Self::forward(to_stream, Delivery::Events(from, events))
    }
}
