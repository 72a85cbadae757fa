//! What a stage reports about itself: [`Stage::status`](crate::Stage::status).

use arbor_actor::Pid;

use crate::{BufferKeep, BufferSize, DemandMode, SubscriptionTag};

/// A stage's kind (gen_stage's `:producer`, `:producer_consumer`, `:consumer`), defined
/// in arbor-actor so a process's statistics can name it.
pub use arbor_actor::StageKind;

/// One subscription of a stage: its tag and the stage at the other end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// The subscription.
    pub tag: SubscriptionTag,
    /// The stage at the other end; [`Pid::name`] gives its name, if it has one.
    pub pid: Pid,
}

/// A snapshot of a stage: its kind, dispatcher, buffer, demand mode and subscriptions
/// (what gen_stage spreads over `:sys.get_status`, `estimate_buffered_count` and its
/// logs).
///
/// # Examples
///
/// ```
/// use arbor_stage::{DemandMode, StageKind};
/// # use arbor_stage::{GenStage, NoEvents, Producer, Stage, StageContext};
/// # use arbor_actor::{Init, Outcome};
/// # struct Numbers;
/// # impl GenStage for Numbers {
/// #     type Args = ();
/// #     type State = ();
/// #     type In = NoEvents;
/// #     type Out = u64;
/// #     async fn init(&self, _: (), _: &mut StageContext<Self>) -> Init<()> { Init::Ready(()) }
/// # }
/// # impl Producer for Numbers {
/// #     async fn handle_demand(&self, _: usize, _: &mut (), _: &mut StageContext<Self>) -> Outcome { Outcome::NoReply }
/// # }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let producer = Stage::producer(Numbers, ()).start().await?;
/// let status = producer.status().await?;
/// assert_eq!(status.kind, StageKind::Producer);
/// assert_eq!(status.dispatcher, "DemandDispatcher");
/// assert_eq!(status.demand_mode, Some(DemandMode::Forward));
/// assert!(status.consumers.is_empty());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StageStatus {
    /// The stage's kind.
    pub kind: StageKind,
    /// Its dispatcher's [`name`](crate::Dispatcher::name) (producers and
    /// producer-consumers; a consumer has one it never uses).
    pub dispatcher: &'static str,
    /// Events waiting in the buffer.
    pub buffered: usize,
    /// The buffer's capacity.
    pub buffer_size: BufferSize,
    /// Which events a full buffer keeps.
    pub buffer_keep: BufferKeep,
    /// Events the buffer has discarded since the stage started.
    pub discarded: u64,
    /// A producer's demand mode; `None` for the other kinds.
    pub demand_mode: Option<DemandMode>,
    /// The producers this stage is subscribed to.
    pub producers: Vec<Peer>,
    /// The consumers subscribed to this stage.
    pub consumers: Vec<Peer>,
}

/// How many subscriptions a stage has on each side ([`Stage::subscriptions`]).
///
/// [`Stage::subscriptions`]: crate::Stage::subscriptions
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Subscriptions {
    /// Consumers subscribed to this stage (it is their producer).
    pub consumers: usize,
    /// Producers this stage is subscribed to (it is their consumer).
    pub producers: usize,
}

impl Subscriptions {
    /// A count of `consumers` and `producers`, for comparing with a stage's.
    pub fn new(consumers: usize, producers: usize) -> Self {
        Subscriptions {
            consumers,
            producers,
        }
    }
}
