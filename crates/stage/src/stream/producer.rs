//! Producers that emit what an iterator or a `Stream` yields: gen_stage's
//! `GenStage.from_enumerable`.

use std::fmt;
use std::future::{poll_fn, Future};
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::Poll;

use arbor_actor::{Exit, Init, Outcome};
use futures_core::Stream;

use crate::{
    Cancelled, DemandAsk, GenStage, NoEvents, Producer, Side, Stage, StageBuilder, StageContext,
    StageInfo, SubscriptionInfo, SubscriptionTag,
};

/// A producer of the items of `items`, in order, as consumers ask for them; it stops
/// normally, once its last items are delivered, on the pull that finds the iterator
/// empty (gen_stage's `GenStage.from_enumerable`).
///
/// Each demand of `n` pulls exactly `n` items, never one ahead: a pull that comes back
/// short is the end. When the items run out exactly at a demand's end, the end is found
/// by the next demand.
///
/// The builder configures the stage like any producer (name, dispatcher, buffer). When
/// the iterator is `Clone + Sync`, [`StageBuilder::child_spec`] puts it in a supervision
/// tree; a restart starts the iterator over, from a clone of the one given here. Give
/// the child `Restart::Transient` so that its normal stop at the end is final.
///
/// The iterator runs inside the stage: an iterator that blocks blocks the stage.
///
/// # Examples
///
/// ```
/// use arbor_actor::Exit;
/// use arbor_stage::SubscribeOptions;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let letters = arbor_stage::from_iter(['a', 'b', 'c']).start().await?;
/// let mut events = arbor_stage::stream()
///     .subscribe_to(&letters, SubscribeOptions::new())
///     .start()
///     .await?;
/// let mut seen = String::new();
/// while let Some(letter) = events.next().await {
///     seen.push(letter?);
/// }
/// assert_eq!(seen, "abc");
/// assert_eq!(letters.wait().await, Exit::Normal);
/// # Ok(())
/// # }
/// ```
pub fn from_iter<I>(items: I) -> StageBuilder<IterProducer<I::IntoIter>>
where
    I: IntoIterator,
    I::IntoIter: Send + 'static,
    I::Item: Send + 'static,
{
    let source = IterProducer {
        iter: PhantomData,
        on_cancel: OnCancel::default(),
    };
    Stage::producer(source, items.into_iter())
}

/// A producer of the items of `stream`, in order, as consumers ask for them; it stops
/// normally once the stream has ended and its last item has been delivered.
///
/// On demand, the stage waits for the stream's next item, then takes the items that
/// are ready after it, up to the demand: a slow stream's items go out as they come,
/// not once a whole `max_demand` of them is there. Demand the stream could not meet
/// yet stays owed, and the stage pulls again after handling its other messages.
///
/// While the stage waits for an item its mailbox waits too: subscriptions, cancels,
/// calls and stop requests are handled once the item has come (or the stream has
/// ended); [`Stage::kill`], and so a supervisor's shutdown once its timeout is over,
/// ends it anyway. The end is
/// seen when a pull finds it, so a stream that ends right after an answered demand
/// stops the stage at the next demand.
///
/// # Examples
///
/// ```
/// use arbor_actor::Exit;
/// use arbor_stage::SubscribeOptions;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let numbers = arbor_stage::from_stream(futures::stream::iter(1..=3_u32))
///     .start()
///     .await?;
/// let mut events = arbor_stage::stream()
///     .subscribe_to(&numbers, SubscribeOptions::new())
///     .start()
///     .await?;
/// let mut sum = 0;
/// while let Some(number) = events.next().await {
///     sum += number?;
/// }
/// assert_eq!(sum, 6);
/// assert_eq!(numbers.wait().await, Exit::Normal);
/// # Ok(())
/// # }
/// ```
pub fn from_stream<St>(stream: St) -> StageBuilder<StreamProducer<St>>
where
    St: Stream + Send + Unpin + 'static,
    St::Item: Send + 'static,
{
    Stage::producer(
        StreamProducer {
            stream: PhantomData,
            on_cancel: OnCancel::default(),
        },
        stream,
    )
}

/// What a source ([`from_iter`], [`from_stream`]) does when a consumer cancels and no
/// consumer is left (gen_stage's `from_enumerable` option `:on_cancel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnCancel {
    /// Keep running, for consumers that may subscribe later. The default.
    #[default]
    Continue,
    /// Stop normally once the last consumer has cancelled.
    Stop,
}

/// The consumer count a source keeps, to act on [`OnCancel`].
trait Consumers {
    fn consumers(&mut self) -> &mut usize;
}

/// A consumer subscribed to a source.
fn subscribed<T: Consumers>(side: Side, state: &mut T) -> DemandAsk {
    if side == Side::Producer {
        *state.consumers() += 1;
    }
    DemandAsk::Automatic
}

/// A subscription of a source ended: with [`OnCancel::Stop`], the last one stops it.
fn cancelled<T: Consumers>(side: Side, on_cancel: OnCancel, state: &mut T) -> Outcome {
    if side != Side::Producer {
        return Outcome::NoReply;
    }
    let left = state.consumers();
    *left = left.saturating_sub(1);
    if on_cancel == OnCancel::Stop && *left == 0 {
        Outcome::Stop(Exit::Normal)
    } else {
        Outcome::NoReply
    }
}

/// The `handle_subscribe` and `handle_cancel` of a source: they count its consumers and
/// apply its `on_cancel` (the same two callbacks for every source).
macro_rules! counts_consumers {
    () => {
        async fn handle_subscribe(
            &self,
            side: Side,
            _: SubscriptionInfo,
            state: &mut Self::State,
            _: &mut StageContext<Self>,
        ) -> DemandAsk {
            subscribed(side, state)
        }

        async fn handle_cancel(
            &self,
            side: Side,
            _: Cancelled,
            _: SubscriptionTag,
            state: &mut Self::State,
            _: &mut StageContext<Self>,
        ) -> Outcome {
            cancelled(side, self.on_cancel, state)
        }
    };
}

impl<I> StageBuilder<IterProducer<I>>
where
    I: Iterator + Send + 'static,
    I::Item: Send + 'static,
{
    /// What the producer does once its last consumer cancels. Default: [`OnCancel::Continue`].
    pub fn on_cancel(mut self, on_cancel: OnCancel) -> Self {
        self.stage_mut().on_cancel = on_cancel;
        self
    }
}

impl<St> StageBuilder<StreamProducer<St>>
where
    St: Stream + Send + Unpin + 'static,
    St::Item: Send + 'static,
{
    /// What the producer does once its last consumer cancels. Default: [`OnCancel::Continue`].
    pub fn on_cancel(mut self, on_cancel: OnCancel) -> Self {
        self.stage_mut().on_cancel = on_cancel;
        self
    }
}

/// The behaviour of the stages [`from_iter`] starts: it is given the iterator as its
/// args, so that every start (and restart) begins with its own.
pub struct IterProducer<I> {
    iter: PhantomData<fn() -> I>,
    on_cancel: OnCancel,
}

impl<I> Clone for IterProducer<I> {
    fn clone(&self) -> Self {
        IterProducer {
            iter: PhantomData,
            on_cancel: self.on_cancel,
        }
    }
}

/// The state of an [`IterProducer`]: the items not emitted yet (`None` once a pull has
/// found the end) and how many consumers it has.
pub struct IterState<I> {
    items: Option<I>,
    consumers: usize,
}

impl<I> Consumers for IterState<I> {
    fn consumers(&mut self) -> &mut usize {
        &mut self.consumers
    }
}

impl<I> fmt::Debug for IterState<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IterState")
            .field("ended", &self.items.is_none())
            .field("consumers", &self.consumers)
            .finish()
    }
}

impl<I> fmt::Debug for IterProducer<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IterProducer")
    }
}

impl<I> GenStage for IterProducer<I>
where
    I: Iterator + Send + 'static,
    I::Item: Send + 'static,
{
    type Args = I;
    type State = IterState<I>;
    type In = NoEvents;
    type Out = I::Item;

    async fn init(&self, items: I, _: &mut StageContext<Self>) -> Init<Self::State> {
        Init::Ready(IterState {
            items: Some(items),
            consumers: 0,
        })
    }

    counts_consumers!();
}

impl<I> Producer for IterProducer<I>
where
    I: Iterator + Send + 'static,
    I::Item: Send + 'static,
{
    async fn handle_demand(
        &self,
        demand: usize,
        state: &mut Self::State,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        let Some(items) = &mut state.items else {
            return Outcome::NoReply;
        };
        // Exactly `demand` items are pulled, never one more (gen_stage's
        // `from_enumerable`): the end is known when a pull comes back short, so a
        // source whose length is a multiple of the demand ends on the next demand.
        let mut pulled = 0;
        ctx.emit_all(items.by_ref().take(demand).inspect(|_| pulled += 1));
        if pulled < demand {
            state.items = None;
            tracing::debug!(stage = %ctx.myself(), "iterator exhausted; stopping once delivered");
            ctx.stop_after_delivery(Exit::Normal);
        }
        Outcome::NoReply
    }
}

/// The behaviour of the stages [`from_stream`] starts: it is given the stream as its
/// args.
pub struct StreamProducer<St> {
    stream: PhantomData<fn() -> St>,
    on_cancel: OnCancel,
}

impl<St> Clone for StreamProducer<St> {
    fn clone(&self) -> Self {
        StreamProducer {
            stream: PhantomData,
            on_cancel: self.on_cancel,
        }
    }
}

impl<St> fmt::Debug for StreamProducer<St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StreamProducer")
    }
}

/// The state of a [`StreamProducer`]: its stream, until it ends, and the demand it has
/// not met yet.
pub struct StreamState<St> {
    stream: Option<St>,
    owed: usize,
    /// A [`Pull`] is in the mailbox: one is enough to come back to the owed demand.
    pull_queued: bool,
    consumers: usize,
}

impl<St> Consumers for StreamState<St> {
    fn consumers(&mut self) -> &mut usize {
        &mut self.consumers
    }
}

impl<St> fmt::Debug for StreamState<St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamState")
            .field("ended", &self.stream.is_none())
            .field("owed", &self.owed)
            .finish()
    }
}

/// The message a [`StreamProducer`] sends itself to pull for demand it still owes.
pub(crate) struct Pull;

impl<St> GenStage for StreamProducer<St>
where
    St: Stream + Send + Unpin + 'static,
    St::Item: Send + 'static,
{
    type Args = St;
    type State = StreamState<St>;
    type In = NoEvents;
    type Out = St::Item;

    async fn init(&self, stream: St, _: &mut StageContext<Self>) -> Init<Self::State> {
        Init::Ready(StreamState {
            stream: Some(stream),
            owed: 0,
            pull_queued: false,
            consumers: 0,
        })
    }

    counts_consumers!();
}

impl<St> Producer for StreamProducer<St>
where
    St: Stream + Send + Unpin + 'static,
    St::Item: Send + 'static,
{
    async fn handle_demand(
        &self,
        demand: usize,
        state: &mut Self::State,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        state.owed += demand;
        pull(state, ctx).await;
        Outcome::NoReply
    }
}

impl<St> StageInfo<Pull> for StreamProducer<St>
where
    St: Stream + Send + Unpin + 'static,
    St::Item: Send + 'static,
{
    async fn handle_info(
        &self,
        _: Pull,
        state: &mut Self::State,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        state.pull_queued = false;
        pull(state, ctx).await;
        Outcome::NoReply
    }
}

/// Emits what the stream has for the owed demand; pulls again later, through the
/// mailbox, for what it could not meet at once.
async fn pull<St>(state: &mut StreamState<St>, ctx: &mut StageContext<StreamProducer<St>>)
where
    St: Stream + Send + Unpin + 'static,
    St::Item: Send + 'static,
{
    let Some(stream) = state.stream.as_mut() else {
        return;
    };
    if state.owed == 0 {
        return;
    }
    let (items, ended) = next_ready(stream, state.owed).await;
    state.owed -= items.len();
    ctx.emit_batch(items);
    if ended {
        state.stream = None;
        tracing::debug!(stage = %ctx.myself(), "stream ended; stopping once delivered");
        ctx.stop_after_delivery(Exit::Normal);
    } else if state.owed > 0 && !state.pull_queued {
        // Through the mailbox rather than a loop here, so that the stage handles what
        // arrived meanwhile (cancels, calls) between two waits on the stream.
        state.pull_queued = ctx.myself().send(Pull).is_ok();
    }
}

/// Waits for the stream's next item, then takes the items ready after it, up to `max`
/// in all; `true` when the stream ended.
fn next_ready<St>(stream: &mut St, max: usize) -> impl Future<Output = (Vec<St::Item>, bool)> + '_
where
    St: Stream + Unpin,
{
    let mut items = Vec::new();
    poll_fn(move |cx| {
        while items.len() < max {
            match Pin::new(&mut *stream).poll_next(cx) {
                Poll::Ready(Some(item)) => items.push(item),
                Poll::Ready(None) => return Poll::Ready((std::mem::take(&mut items), true)),
                Poll::Pending if items.is_empty() => return Poll::Pending,
                Poll::Pending => break,
            }
        }
        Poll::Ready((std::mem::take(&mut items), false))
    })
}
