//! Logs for an application: one call installs a tracing subscriber that writes to
//! stderr, in colour only when stderr is a terminal, as plain text or JSON lines.
//!
//! ```no_run
//! use arbor_app::logging::{LogFormat, Logging};
//!
//! // `RUST_LOG` overrides the default filter.
//! Logging::new("info,arbor_supervisor=warn").format(LogFormat::Json).init()?;
//! # Ok::<(), arbor_app::logging::LoggingError>(())
//! ```
//!
//! `--log-format plain|json` parses into [`LogFormat`] (it implements `FromStr`, so
//! clap's derive takes it as it is). Piped output (`app | cat`, a log collector) carries
//! no ANSI escape codes.

use std::io::IsTerminal;
use std::str::FromStr;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LogFormat {
    /// One human-readable line per event (the default).
    #[default]
    Plain,
    /// One JSON object per line, for log collectors.
    Json,
}

impl FromStr for LogFormat {
    type Err = LoggingError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "plain" => Ok(LogFormat::Plain),
            "json" => Ok(LogFormat::Json),
            other => Err(LoggingError::UnknownFormat(other.to_owned())),
        }
    }
}

impl std::fmt::Display for LogFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LogFormat::Plain => "plain",
            LogFormat::Json => "json",
        })
    }
}

/// What [`Logging::init`] and `LogFormat::from_str` return on failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoggingError {
    /// The log format is neither `plain` nor `json`.
    #[error("unknown log format {0:?} (expected plain or json)")]
    UnknownFormat(String),
    /// A global subscriber was installed already.
    #[error("a tracing subscriber is installed already")]
    AlreadyInstalled(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The subscriber an application installs: a default filter, a [`LogFormat`], stderr.
///
/// # Examples
///
/// ```
/// use arbor_app::logging::{LogFormat, Logging};
///
/// let logging = Logging::new("warn").format("json".parse()?);
/// assert_eq!(logging.log_format(), LogFormat::Json);
/// # Ok::<(), arbor_app::logging::LoggingError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Logging {
    default_filter: String,
    format: LogFormat,
}

impl Logging {
    /// Logs what `default_filter` lets through (an `EnvFilter` directive such as
    /// `info,arbor_supervisor=warn`) unless `RUST_LOG` says otherwise; plain text.
    pub fn new(default_filter: impl Into<String>) -> Self {
        Logging {
            default_filter: default_filter.into(),
            format: LogFormat::default(),
        }
    }

    /// Sets the format (default [`LogFormat::Plain`]).
    pub fn format(mut self, format: LogFormat) -> Self {
        self.format = format;
        self
    }

    /// The format set.
    pub fn log_format(&self) -> LogFormat {
        self.format
    }

    /// Installs the subscriber for the whole process, writing to stderr, with colours
    /// only when stderr is a terminal.
    ///
    /// # Errors
    ///
    /// [`LoggingError::AlreadyInstalled`] when a global subscriber exists already.
    pub fn init(self) -> Result<(), LoggingError> {
        let ansi = std::io::stderr().is_terminal();
        self.init_with(std::io::stderr, ansi)
    }

    /// [`Logging::init`] with another writer, colours as `ansi` says.
    ///
    /// # Errors
    ///
    /// [`LoggingError::AlreadyInstalled`] when a global subscriber exists already.
    pub fn init_with<W>(self, writer: W, ansi: bool) -> Result<(), LoggingError>
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        let filter = EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| EnvFilter::new(&self.default_filter));
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(writer)
            .with_ansi(ansi);
        let installed = match self.format {
            LogFormat::Plain => builder.try_init(),
            LogFormat::Json => builder.json().try_init(),
        };
        installed.map_err(LoggingError::AlreadyInstalled)
    }
}
