//! Dispatchers decide which consumer gets which event, and how much demand a producer
//! forwards upstream.
//!
//! ```
//! use arbor_stage::{DemandDispatcher, Dispatcher, Subscriber, SubscriptionTag};
//! use arbor_stage::plumbing::{Outbox};
//!
//! # fn main() -> Result<(), arbor_stage::DispatchError> {
//! let (one, two) = (SubscriptionTag::new(1), SubscriptionTag::new(2));
//! let mut dispatcher = DemandDispatcher::new();
//! let mut out = Outbox::new();
//! dispatcher.subscribe(Subscriber::new(one, 5))?;
//! dispatcher.subscribe(Subscriber::new(two, 5))?;
//! assert_eq!(dispatcher.ask(one, 3, &mut out)?, 3); // forwarded upstream
//! assert_eq!(dispatcher.ask(two, 5, &mut out)?, 5);
//!
//! let leftover = dispatcher.dispatch("abcdefghi".chars().collect(), &mut out);
//! assert_eq!(leftover, vec!['i']);
//! assert_eq!(
//!     out.take_batches(),
//!     vec![(two, vec!['a', 'b', 'c', 'd', 'e']), (one, vec!['f', 'g', 'h'])],
//! );
//! # Ok(())
//! # }
//! ```

mod broadcast;
mod demand;
mod outbox;
mod partition;
mod shuffle;
mod subscriber;

pub use broadcast::BroadcastDispatcher;
pub use demand::{DemandDispatcher, DemandDispatcherOptions};
pub use outbox::{InfoToken, Outbox};
pub use partition::{PartitionDispatcher, Partitions, ToPartition};
pub use subscriber::{PartitionKey, Selector, Subscriber};

use crate::{DispatchError, SubscriptionTag};

/// A strategy for routing a producer's events to its consumers (gen_stage's
/// `GenStage.Dispatcher` behaviour).
///
/// A producer (or producer-consumer) owns one dispatcher. Consumers subscribe, ask for
/// events, and cancel; the stage reports each of these to the dispatcher, which answers
/// with the demand to forward upstream. When the stage has events, it hands them to
/// [`dispatch`], which sends what consumers asked for and returns the rest for the
/// stage's [`Buffer`](crate::Buffer).
///
/// ```text
///                 ┌─ ask(3) ── [consumer 1]
///  [producer] ◀───┤
///   dispatcher    └─ ask(5) ── [consumer 2]
///       │
///       └─ dispatch([a b c d e f g h i]) ─▶ 5 to consumer 2, 3 to consumer 1, [i] left over
/// ```
///
/// Built in:
/// - [`DemandDispatcher`] (the default): each event to one consumer, the one with the
///   most pending demand first;
/// - [`BroadcastDispatcher`]: each event to every consumer (minus those whose
///   [`Selector`] refuses it), paced by the slowest;
/// - [`PartitionDispatcher`]: each event to the one consumer of the partition a hash
///   function picks.
///
/// A constructor taking the dispatcher's options plays the part of gen_stage's `init`.
/// Each method below states what the caller (the stage) guarantees and what the
/// implementer must guarantee. Side effects (batches, released infos, discards, extra
/// demand) go into the [`Outbox`]; the stage drains it after each call. Dispatcher
/// state is separate from the stage's own state; neither reads the other.
///
/// # Guarantees
///
/// Every implementation, built in or not, must:
/// - never lose or duplicate an event: each event given to [`dispatch`] is sent via the
///   outbox (to one consumer, or to every accepting consumer for broadcast), returned
///   as a leftover, kept in the dispatcher's own queue until sent, or dropped by an
///   explicit rule and counted with [`Outbox::discard`];
/// - never send a consumer more events than it asked for with [`ask`], in total;
/// - keep each consumer's events in dispatch order;
/// - release every info token handed to [`info`] exactly once, after every event
///   dispatched before it has been put in an outbox;
/// - never panic: demand arithmetic saturates.
///
/// # Examples
///
/// A dispatcher that sends everything to its first subscriber and ignores the others:
///
/// ```
/// use arbor_stage::{DispatchError, Dispatcher, Subscriber, SubscriptionTag};
/// use arbor_stage::plumbing::{InfoToken, Outbox};
///
/// #[derive(Debug, Default)]
/// struct First {
///     consumer: Option<(SubscriptionTag, usize)>,
/// }
///
/// impl<E> Dispatcher<E> for First {
///     fn subscribe(&mut self, subscriber: Subscriber<E>) -> Result<usize, DispatchError> {
///         self.consumer.get_or_insert((subscriber.tag, 0));
///         Ok(0)
///     }
///
///     fn cancel(&mut self, tag: SubscriptionTag, _out: &mut Outbox<E>) -> usize {
///         if self.consumer.is_some_and(|(first, _)| first == tag) {
///             self.consumer = None;
///         }
///         0
///     }
///
///     fn ask(&mut self, tag: SubscriptionTag, demand: usize, _out: &mut Outbox<E>) -> Result<usize, DispatchError> {
///         match &mut self.consumer {
///             Some((first, pending)) if *first == tag => {
///                 *pending += demand;
///                 Ok(demand)
///             }
///             _ => Ok(0),
///         }
///     }
///
///     fn dispatch(&mut self, mut events: Vec<E>, out: &mut Outbox<E>) -> Vec<E> {
///         let Some((tag, pending)) = &mut self.consumer else { return events };
///         let now = (*pending).min(events.len());
///         let later = events.split_off(now);
///         *pending -= now;
///         out.send(*tag, events);
///         later
///     }
///
///     fn info(&mut self, token: InfoToken, out: &mut Outbox<E>) {
///         out.release(token); // nothing is ever queued here
///     }
/// }
///
/// # fn main() -> Result<(), DispatchError> {
/// let mut first = First::default();
/// let mut out = Outbox::new();
/// first.subscribe(Subscriber::<u32>::new(SubscriptionTag::new(1), 10))?;
/// first.ask(SubscriptionTag::new(1), 2, &mut out)?;
/// assert_eq!(first.dispatch(vec![1, 2, 3], &mut out), vec![3]);
/// # Ok(())
/// # }
/// ```
///
/// [`dispatch`]: Dispatcher::dispatch
/// [`ask`]: Dispatcher::ask
/// [`info`]: Dispatcher::info
pub trait Dispatcher<E>: Send + 'static {
    /// A consumer subscribed; returns the demand to forward upstream (the built-in
    /// dispatchers return 0: a new consumer has asked for nothing yet).
    ///
    /// The caller passes a tag it has not passed before (or has since cancelled).
    /// The implementer either records the subscriber, which from now on may `ask`, or
    /// returns an error and changes nothing.
    ///
    /// # Errors
    ///
    /// [`DispatchError::AlreadySubscribed`] for a tag already known; the
    /// [`PartitionDispatcher`] also refuses a missing, unknown or taken partition.
    fn subscribe(&mut self, subscriber: Subscriber<E>) -> Result<usize, DispatchError>;

    /// A consumer left (it cancelled, or it went down); returns the demand to forward
    /// upstream.
    ///
    /// The caller may pass any tag: an unknown tag (never subscribed, already cancelled)
    /// changes nothing and returns 0, so cancelling twice is harmless. The implementer
    /// forgets the consumer: it receives nothing more. Events the dispatcher held for it
    /// are counted in the outbox as discarded, and infos waiting only on them are
    /// released there. The returned demand replaces events that will now never reach
    /// anyone, or demand this consumer was holding back.
    fn cancel(&mut self, tag: SubscriptionTag, out: &mut Outbox<E>) -> usize;

    /// The consumer `tag` asked for `demand` more events; returns the demand to forward
    /// upstream.
    ///
    /// The caller passes a subscribed tag and `demand > 0` (0 changes nothing and
    /// returns `Ok(0)`). The implementer adds the demand to what `tag` may receive, and
    /// may send events it already holds for `tag` through `out` at once. The returned
    /// demand may be less than `demand` (events already requested upstream cover it) or
    /// more (for broadcast, once the slowest consumer catches up).
    ///
    /// # Errors
    ///
    /// [`DispatchError::UnknownSubscription`] for a tag that is not subscribed.
    fn ask(
        &mut self,
        tag: SubscriptionTag,
        demand: usize,
        out: &mut Outbox<E>,
    ) -> Result<usize, DispatchError>;

    /// Sends `events` to consumers with demand, via `out`; returns the leftovers no
    /// consumer could take, in their original order.
    ///
    /// The caller passes a non-empty batch (an empty one is returned as is) and buffers
    /// the leftovers to dispatch them again later, before newer events. The implementer
    /// sends each event to the consumers its strategy picks without exceeding any
    /// consumer's demand, keeps the order of events per consumer, and returns as
    /// leftovers a suffix of `events`: once it stops taking events, it takes no later
    /// one. It may hold events in its own queue instead (the partition dispatcher does),
    /// provided it sends them when demand arrives.
    fn dispatch(&mut self, events: Vec<E>, out: &mut Outbox<E>) -> Vec<E>;

    /// An info message must reach the stage after every event already dispatched has
    /// been sent.
    ///
    /// The caller passes a token it has not passed before and handles the message when
    /// the token comes out of an outbox. The implementer releases the token exactly once:
    /// at once (in `out`) if it holds no events, otherwise once the events it held when
    /// the info arrived have been sent or discarded.
    fn info(&mut self, token: InfoToken, out: &mut Outbox<E>);

    /// The dispatcher's name in a stage's [`status`](crate::Stage::status). Default: its
    /// type's name.
    fn name(&self) -> &'static str {
        std::any::type_name::<Self>()
    }
}
