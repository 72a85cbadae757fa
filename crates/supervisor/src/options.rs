//! Supervisor options, with OTP's defaults, validated at start.

use crate::{OptionsError, Strategy, SupervisorError};

/// Whether a supervisor stops itself when significant children exit (OTP 24's
/// `auto_shutdown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum AutoShutdown {
    /// Never (the default).
    #[default]
    Never,
    /// When any significant child exits and is not restarted.
    AnySignificant,
    /// When every significant child has exited and none is restarted.
    AllSignificant,
}

/// Options of a [`Supervisor`](crate::Supervisor).
///
/// # Examples
///
/// ```
/// use arbor_supervisor::{Strategy, SupervisorOptions};
///
/// let options = SupervisorOptions::one_for_all().max_restarts(10).max_seconds(60).name("pipeline");
/// assert_eq!(options.strategy, Strategy::OneForAll);
/// assert_eq!(SupervisorOptions::default().max_restarts, 3);
/// assert_eq!(SupervisorOptions::default().max_seconds, 5);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[must_use]
pub struct SupervisorOptions {
    /// Which children restart together. Default: `OneForOne`.
    pub strategy: Strategy,
    /// Restarts allowed within `max_seconds` before the supervisor gives up. Default: 3.
    pub max_restarts: u32,
    /// The restart-intensity window, in seconds; at least 1. Default: 5.
    pub max_seconds: u64,
    /// Whether significant children's exits stop the supervisor. Default: `Never`, under
    /// which significant children are refused (as OTP's `bad_combination`).
    pub auto_shutdown: AutoShutdown,
    /// A name for logs. Default: none.
    pub name: Option<String>,
}

impl Default for SupervisorOptions {
    fn default() -> Self {
        SupervisorOptions {
            strategy: Strategy::OneForOne,
            max_restarts: 3,
            max_seconds: 5,
            auto_shutdown: AutoShutdown::Never,
            name: None,
        }
    }
}

impl SupervisorOptions {
    /// The defaults with this strategy.
    pub fn new(strategy: Strategy) -> Self {
        SupervisorOptions {
            strategy,
            ..Self::default()
        }
    }

    /// The defaults with `OneForOne`.
    pub fn one_for_one() -> Self {
        Self::new(Strategy::OneForOne)
    }

    /// The defaults with `OneForAll`.
    pub fn one_for_all() -> Self {
        Self::new(Strategy::OneForAll)
    }

    /// The defaults with `RestForOne`.
    pub fn rest_for_one() -> Self {
        Self::new(Strategy::RestForOne)
    }

    /// Sets `max_restarts`.
    pub fn max_restarts(mut self, max_restarts: u32) -> Self {
        self.max_restarts = max_restarts;
        self
    }

    /// Sets `max_seconds`.
    pub fn max_seconds(mut self, max_seconds: u64) -> Self {
        self.max_seconds = max_seconds;
        self
    }

    /// Sets `auto_shutdown`.
    pub fn auto_shutdown(mut self, auto_shutdown: AutoShutdown) -> Self {
        self.auto_shutdown = auto_shutdown;
        self
    }

    /// Sets the name shown in logs.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    pub(crate) fn validate(&self) -> Result<(), SupervisorError> {
        validate_window(self.max_seconds).map_err(SupervisorError::InvalidOptions)
    }
}

/// Options of a [`DynamicSupervisor`](crate::DynamicSupervisor).
///
/// # Examples
///
/// ```
/// use arbor_supervisor::DynamicSupervisorOptions;
///
/// // The book's JobRunner.
/// let options = DynamicSupervisorOptions::default().max_seconds(30).max_children(100).name("job-runner");
/// assert_eq!(options.max_restarts, 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[must_use]
pub struct DynamicSupervisorOptions {
    /// Restarts allowed within `max_seconds`. Default: 3.
    pub max_restarts: u32,
    /// The restart-intensity window, in seconds; at least 1. Default: 5.
    pub max_seconds: u64,
    /// How many children it may hold at once. Default: no limit.
    pub max_children: Option<usize>,
    /// A name for logs. Default: none.
    pub name: Option<String>,
}

impl Default for DynamicSupervisorOptions {
    fn default() -> Self {
        DynamicSupervisorOptions {
            max_restarts: 3,
            max_seconds: 5,
            max_children: None,
            name: None,
        }
    }
}

impl DynamicSupervisorOptions {
    /// Sets `max_restarts`.
    pub fn max_restarts(mut self, max_restarts: u32) -> Self {
        self.max_restarts = max_restarts;
        self
    }

    /// Sets `max_seconds`.
    pub fn max_seconds(mut self, max_seconds: u64) -> Self {
        self.max_seconds = max_seconds;
        self
    }

    /// Sets `max_children`.
    pub fn max_children(mut self, max_children: usize) -> Self {
        self.max_children = Some(max_children);
        self
    }

    /// Sets the name shown in logs.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    pub(crate) fn validate(&self) -> Result<(), SupervisorError> {
        validate_window(self.max_seconds).map_err(SupervisorError::InvalidOptions)
    }
}

fn validate_window(max_seconds: u64) -> Result<(), OptionsError> {
    if max_seconds == 0 {
        return Err(OptionsError::ZeroMaxSeconds);
    }
    Ok(())
}
