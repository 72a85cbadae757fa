//! arbor: Erlang/OTP's fault tolerance and Elixir's GenStage, in Rust.
//!
//! One import brings the common pieces: `use arbor::prelude::*`.
//!
//! # Servers — [`actor`]
//! - [`Server`](actor::Server): handle to a running GenServer; `call`, `cast`, `send`, `stop`.
//! - [`GenServer`](actor::GenServer) + [`HandleCall`](actor::HandleCall) /
//!   [`HandleCast`](actor::HandleCast) / [`HandleInfo`](actor::HandleInfo) /
//!   [`HandleContinue`](actor::HandleContinue): the behaviour, one trait per message.
//! - [`Exit`](actor::Exit): why a server stopped, as OTP's exit reasons.
//!
//! - [`Pid`](actor::Pid): an untyped reference to one running actor.
//!
//! # Supervision — [`supervisor`]
//! - [`Supervisor`](supervisor::Supervisor), [`DynamicSupervisor`](supervisor::DynamicSupervisor):
//!   start children and restart them by strategy and restart intensity.
//! - [`ChildSpec`](supervisor::ChildSpec): how to start a child and when to restart it.
//!
//! # Naming — [`registry`]
//! - [`Registry`](registry::Registry): unique or duplicate keys, values, `select`, `dispatch`;
//!   read without a mailbox; entries go when their actor stops.
//! - [`Via`](registry::Via): start a server already registered (`StartOptions::via`).
//!
//! # Pipelines — [`stage`]
//! - [`Stage`](stage::Stage): handle to a running stage; built with `Stage::producer`,
//!   `Stage::producer_consumer`, `Stage::consumer`.
//! - [`GenStage`](stage::GenStage) + [`Producer`](stage::Producer) /
//!   [`ProducerConsumer`](stage::ProducerConsumer) / [`Consumer`](stage::Consumer): the
//!   behaviours; events are emitted through [`StageContext`](stage::StageContext).
//! - [`SubscribeOptions`](stage::SubscribeOptions): `max_demand`, `min_demand`, `cancel`,
//!   `partition`, `selector`.
//! - [`DemandDispatcher`](stage::DemandDispatcher), [`BroadcastDispatcher`](stage::BroadcastDispatcher),
//!   [`PartitionDispatcher`](stage::PartitionDispatcher): who gets which event.
//! - [`ConsumerSupervisor`](stage::ConsumerSupervisor): one child per event, bounded by demand.
//!
//! # Tasks — [`task`]
//! - [`Task`](task::Task): one unit of async work with one result; `spawn` + `await`,
//!   `start`, `yield_for`, `shutdown`; [`Task::async_stream`](task::Task::async_stream)
//!   for many at once with bounded concurrency.
//! - [`TaskSupervisor`](task::TaskSupervisor): tasks as supervised children, linked or not.
//!
//! # Data pipelines — [`broadway`]
//! - [`Broadway`](broadway::Broadway): a running pipeline (producers → processors →
//!   batchers → batch processors), built by `Broadway::builder`; `test_message`,
//!   `test_batch`, graceful `stop`.
//! - [`Pipeline`](broadway::Pipeline): `handle_message`, `prepare_messages`,
//!   `handle_batch`, `handle_failed`; [`Message`](broadway::Message) and its
//!   [`Acknowledger`](broadway::Acknowledger).
//! - [`MessageProducer`](broadway::MessageProducer): a source of messages; the RabbitMQ
//!   producer with the `rabbitmq` feature.
//! # Data-parallel flows — [`flow`]
//! - [`Flow`](flow::Flow): a plan of sources, `map`/`filter`, `partition` and `reduce`,
//!   run by supervised stages with back-pressure; `collect`, `run`, `into_stream`.
//! - [`PartitionOptions`](flow::PartitionOptions), [`Window`](flow::Window): how events
//!   are routed to stages, and when reductions start and emit.
//!
//! # Telemetry and introspection
//! - Metrics through the [`metrics`](https://docs.rs/metrics) facade, every name prefixed
//!   `arbor_` (servers, supervisors, registries, stages, ConsumerSupervisors): no-ops
//!   until the program installs a recorder. Each layer's `telemetry` module lists its
//!   metrics; `docs/guide-operations.md` has the full table.
//! - [`TreeNode`](supervisor::TreeNode), from `Supervisor::tree`: the tree with each
//!   process's [`NodeStats`](supervisor::NodeStats) and each stage's
//!   [`StageSnapshot`](actor::StageSnapshot), read without messaging the processes;
//!   serialisable with the `serde` feature. [`ProcessStats`](actor::ProcessStats) for one
//!   server (`Server::stats`).
//!
//! # Applications — [`app`]
//! - [`Application`](app::Application): runs a root tree as a program; stops it in
//!   order on ctrl-c or SIGTERM within a deadline; [`Outcome`](app::Outcome) says how
//!   it ended and gives the exit code. [`StopHandle`](app::StopHandle) stops it from
//!   the program.
//! - `app::logging` (feature `logging`): the applications' tracing subscriber, plain
//!   or JSON, colours only on a terminal.
//!
//! # Watching a running tree — `observer` (feature `observer`)
//! - `observer::Observer`: a live web view of the tree (Erlang's observer, in a
//!   browser): the tree and each stage's throughput updated live, JSON endpoints, a
//!   Prometheus `/metrics`, and with a token, stop and restart of children.
//!
//! ```
//! use arbor::prelude::*;
//!
//! struct Counter;
//! impl GenServer for Counter {
//!     type Args = u64;
//!     type State = u64;
//!     async fn init(&self, n: u64, _ctx: &mut Context<Self>) -> Init<u64> { Init::Ready(n) }
//! }
//! struct Add(u64);
//! impl HandleCast<Add> for Counter {
//!     async fn handle_cast(&self, Add(k): Add, n: &mut u64, _ctx: &mut Context<Self>) -> Outcome {
//!         *n += k;
//!         Outcome::NoReply
//!     }
//! }
//! struct Get;
//! impl Reply<Get> for Counter {
//!     type Reply = u64;
//!     async fn reply(&self, _: Get, n: &mut u64) -> u64 {
//!         *n
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let counter = Server::start(Counter, 0).await?;
//! counter.cast(Add(5))?;
//! let n: u64 = counter.call(Get).await?;
//! assert_eq!(n, 5);
//! # Ok(())
//! # }
//! ```
#![doc(test(attr(deny(warnings))))]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![forbid(unsafe_code)]

// Inlined: each layer is documented as a module of the facade, so `cargo doc -p arbor`
// gives every type a page here and the links above resolve without the sub-crates' docs.
#[doc(inline)]
pub use arbor_actor as actor;
#[doc(inline)]
pub use arbor_app as app;
#[doc(inline)]
pub use arbor_broadway as broadway;
#[doc(inline)]
pub use arbor_flow as flow;
#[cfg(feature = "observer")]
#[doc(inline)]
pub use arbor_observer as observer;
#[doc(inline)]
pub use arbor_registry as registry;
#[doc(inline)]
pub use arbor_stage as stage;
#[doc(inline)]
pub use arbor_supervisor as supervisor;
#[doc(inline)]
pub use arbor_task as task;

pub mod prelude {
    //! The traits and handles most programs use.
    pub use arbor_actor::{
        CallError, CallOutcome, Caller, Context, Exit, GenServer, HandleCall, HandleCast,
        HandleContinue, HandleInfo, IdleTimeout, Init, Outcome, Pid, Reply, ReplyTo, Server,
        StartOptions,
    };
    // Not `arbor_app::Outcome`: the prelude's `Outcome` is the callbacks' (arbor-actor).
    pub use arbor_app::{Application, StopHandle, Trigger};
    pub use arbor_broadway::{
        Acked, BatchInfo, BatchTrigger, BatcherOptions, BoxError, Broadway, Message,
        MessageProducer, Pipeline, ProcessorOptions, ProducerOptions, Pusher, TestProducer,
    };
    pub use arbor_flow::{Flow, FlowError, FlowStream, PartitionOptions, Window};
    pub use arbor_registry::{Keys, Named, Registry, RegistryOptions};
    pub use arbor_stage::{
        Cancel, Consumer, ConsumerSupervisor, GenStage, NoEvents, Producer, ProducerConsumer,
        Stage, StageCall, StageCast, StageContext, StageInfo, SubscribeOptions, SubscribeTo,
        SubscriptionTag,
    };
    pub use arbor_supervisor::{
        ChildSpec, DynamicSupervisor, DynamicSupervisorOptions, Restart, Shutdown, Strategy,
        Supervisor, SupervisorOptions, TreeNode,
    };
    pub use arbor_task::{
        AsyncStream, ItemError, OnTimeout, StreamOptions, Task, TaskError, TaskReply,
        TaskSupervisor,
    };
}

/// The README's example, compiled and run as a doctest so it cannot go stale.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The Broadway guide's examples, compiled and run as doctests.
#[doc = include_str!("../../../docs/guide-broadway.md")]
#[cfg(doctest)]
pub struct GuideBroadwayDoctests;
/// The flow guide's examples, compiled and run as doctests.
#[doc = include_str!("../../../docs/guide-flow.md")]
#[cfg(doctest)]
pub struct GuideFlowDoctests;

/// The task guide's examples, compiled and run as doctests.
#[doc = include_str!("../../../docs/guide-task.md")]
#[cfg(doctest)]
pub struct GuideTaskDoctests;

/// The operations guide's examples, compiled and run as doctests.
#[doc = include_str!("../../../docs/guide-operations.md")]
#[cfg(doctest)]
pub struct GuideOperationsDoctests;
