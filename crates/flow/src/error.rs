//! What can go wrong with a flow: a plan that cannot run ([`InvalidFlow`]), or a run that
//! failed ([`FlowError`]).

use arbor_actor::Exit;
use arbor_stage::{InvalidOptions, StageStartError};
use arbor_supervisor::SupervisorError;

/// Why a flow's plan cannot run. Found when the flow starts (a flow is a plan until a
/// sink runs it), before any stage starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidFlow {
    /// A partition was given zero stages.
    #[error("a partition needs at least one stage, got 0")]
    ZeroStages,
    /// `Window::count(0)`.
    #[error("a count window needs a count above zero")]
    ZeroCount,
    /// A periodic or fixed window of zero length.
    #[error("a {0} window needs a duration above zero")]
    ZeroDuration(&'static str),
    /// `trigger_every(0)`.
    #[error("trigger_every needs a count above zero")]
    ZeroTriggerEvery,
    /// `trigger_periodically` with a zero period.
    #[error("trigger_periodically needs a period above zero")]
    ZeroPeriod,
    /// A second `trigger_every` / `trigger` on the same window (Flow allows one).
    #[error("a window takes one punctuation trigger (trigger_every or trigger), got a second")]
    SecondTrigger,
    /// A window was set on a partition whose stages reduce nothing.
    #[error("a window was set but nothing reduces in this partition (add reduce, group_by, ...)")]
    WindowWithoutReduce,
    /// `reduce` (or `group_by`, `uniq_by`, ...) twice in one partition.
    #[error("a partition reduces once: call partition() between two reductions")]
    SecondReduce,
    /// `from_iters` or `from_stages` with nothing to read from.
    #[error("a flow needs at least one source")]
    NoSources,
    /// Bad `max_demand` / `min_demand`.
    #[error("invalid demand options: {0}")]
    Demand(#[source] InvalidOptions),
}

/// Why running a flow failed: what [`Flow::run`](crate::Flow::run),
/// [`Flow::collect`](crate::Flow::collect) and [`FlowStream::next`](crate::FlowStream::next)
/// return.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlowError {
    /// The plan cannot run.
    #[error("invalid flow")]
    Invalid(#[from] InvalidFlow),
    /// The flow's supervisor did not start.
    #[error("the flow's supervisor did not start")]
    Supervisor(#[source] SupervisorError),
    /// A stage of the flow did not start.
    #[error("a flow stage did not start")]
    Start(#[source] StageStartError),
    /// A blocking sink was called inside a tokio runtime (use the async form there).
    #[error("a blocking flow sink cannot run inside a tokio runtime: use the async form")]
    InsideRuntime,
    /// A blocking sink could not build its runtime.
    #[error("could not build a runtime for a blocking flow sink")]
    Runtime(#[source] std::io::Error),
    /// A stage of the flow stopped abnormally (a panicking function, a hash that returned
    /// a partition out of range, a consumer that crashed): the flow stopped.
    #[error("the flow stopped: stage {stage} exited with {reason}")]
    Failed {
        /// The stage (name or pid) that ended the caller's subscription.
        stage: String,
        /// Its exit reason, with the panic message if a function panicked.
        reason: Exit,
    },
}

impl From<StageStartError> for FlowError {
    fn from(error: StageStartError) -> Self {
        FlowError::Start(error)
    }
}
