//! Why a server stopped: OTP's exit reasons as a Rust enum.

use std::any::Any;
use std::fmt;

use ractor::{ActorProcessingErr, SupervisionEvent};

/// The reason a server exited, as OTP's exit reasons.
///
/// `Normal` and `Shutdown` are the *expected* exits: a supervisor does not restart a
/// `Transient` child that exits with them, and they are not logged as crashes. Every other
/// reason is abnormal.
///
/// | OTP reason              | `Exit`                          |
/// |-------------------------|---------------------------------|
/// | `:normal`               | `Exit::Normal`                  |
/// | `:shutdown`             | `Exit::Shutdown(None)`          |
/// | `{:shutdown, reason}`   | `Exit::Shutdown(Some(reason))`  |
/// | an error / `raise`      | `Exit::Error(message)`          |
/// | a crash in a callback   | `Exit::Panic(message)`          |
/// | `:kill` / `:killed`     | `Exit::Killed`                  |
/// | `:noproc`               | `Exit::NoProc`                  |
///
/// # Examples
///
/// ```
/// use arbor_actor::Exit;
///
/// assert!(Exit::shutdown_with("drained").is_normal());
/// assert!(Exit::error("disk full").is_abnormal());
/// assert_eq!(Exit::shutdown_with("drained").to_string(), "shutdown: drained");
/// ```
///
/// `Exit` is exhaustive on purpose, unlike arbor's error enums: these are OTP's exit
/// reasons, a closed set users match on (a supervisor's restart decision is a match on
/// it), so a new variant would be a breaking change by design.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Exit {
    /// The server finished its work (`:normal`).
    Normal,
    /// The server was asked to shut down (`:shutdown`, or `{:shutdown, reason}` with a reason).
    Shutdown(Option<String>),
    /// The server stopped because of an error (an abnormal exit).
    Error(String),
    /// A callback panicked; the message is the panic's (an abnormal exit).
    Panic(String),
    /// The server was killed without running `terminate` (`:killed`).
    Killed,
    /// A process the server depended on was not running (`:noproc`): a consumer whose
    /// producer is gone when it subscribes, for one (an abnormal exit).
    NoProc,
}

impl Exit {
    /// `Exit::Shutdown(None)`: OTP's `:shutdown`.
    pub fn shutdown() -> Self {
        Exit::Shutdown(None)
    }

    /// `Exit::Shutdown(Some(reason))`: OTP's `{:shutdown, reason}`.
    pub fn shutdown_with(reason: impl Into<String>) -> Self {
        Exit::Shutdown(Some(reason.into()))
    }

    /// An abnormal exit caused by an error.
    pub fn error(reason: impl fmt::Display) -> Self {
        Exit::Error(reason.to_string())
    }

    /// `true` for `Normal` and `Shutdown`: the exits OTP neither logs nor restarts transiently.
    pub fn is_normal(&self) -> bool {
        matches!(self, Exit::Normal | Exit::Shutdown(_))
    }

    /// `true` for every reason that is not [`Exit::is_normal`].
    pub fn is_abnormal(&self) -> bool {
        !self.is_normal()
    }

    /// Builds `Exit::Panic` from a panic payload, keeping its message when it has one.
    pub fn from_panic(payload: Box<dyn Any + Send>) -> Self {
        let message = match payload.downcast::<String>() {
            Ok(message) => *message,
            Err(payload) => match payload.downcast::<&'static str>() {
                Ok(message) => (*message).to_string(),
                Err(_) => "panic with a non-string payload".to_string(),
            },
        };
        Exit::Panic(message)
    }

    /// Reads the exit reason out of a ractor supervision event about a child or monitored
    /// actor; `None` for events that are not exits.
    ///
    /// Exits of arbor servers come back exactly as they were. A stop through ractor with
    /// some other reason string is a deliberate stop, not a crash (crashes arrive as
    /// failures): it reads as `Shutdown(Some(reason))`, as the server's own `terminate`
    /// sees a shutdown; no reason is `Normal`; `"killed"` is `Killed`.
    pub fn from_event(event: &SupervisionEvent) -> Option<Self> {
        match event {
            SupervisionEvent::ActorTerminated(_, _, reason) => {
                Some(Self::from_stop_reason(reason.as_deref()))
            }
            SupervisionEvent::ActorFailed(_, error) => Some(Self::from_failure(error)),
            _ => None,
        }
    }

    /// Reads the exit out of a failed actor's error (ractor's `ActorFailed`).
    pub fn from_failure(error: &ActorProcessingErr) -> Self {
        match error.downcast_ref::<Exit>() {
            Some(exit) => exit.clone(),
            None => Exit::Error(error.to_string()),
        }
    }

    /// Reads the exit out of a stopped actor's reason string (ractor's `ActorTerminated`).
    pub fn from_stop_reason(reason: Option<&str>) -> Self {
        let Some(reason) = reason else {
            return Exit::Normal;
        };
        match reason {
            NORMAL => Exit::Normal,
            SHUTDOWN => Exit::Shutdown(None),
            KILLED => Exit::Killed,
            NOPROC => Exit::NoProc,
            other => Exit::Shutdown(Some(
                other
                    .strip_prefix(SHUTDOWN_WITH)
                    .unwrap_or(other)
                    .to_string(),
            )),
        }
    }

    /// The string ractor carries for a normal or shutdown stop; [`Exit::from_stop_reason`]
    /// reads it back.
    pub(crate) fn to_stop_reason(&self) -> String {
        self.to_string()
    }
}

const NORMAL: &str = "normal";
const SHUTDOWN: &str = "shutdown";
const SHUTDOWN_WITH: &str = "shutdown: ";
const KILLED: &str = "killed";
const NOPROC: &str = "noproc";

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Normal => f.write_str(NORMAL),
            Exit::Shutdown(None) => f.write_str(SHUTDOWN),
            Exit::Shutdown(Some(reason)) => write!(f, "{SHUTDOWN_WITH}{reason}"),
            Exit::Error(reason) => write!(f, "error: {reason}"),
            Exit::Panic(message) => write!(f, "panic: {message}"),
            Exit::Killed => f.write_str(KILLED),
            Exit::NoProc => f.write_str(NOPROC),
        }
    }
}

/// An `Exit` is what an arbor server hands ractor as its failure, so supervisors can read
/// the typed reason back with [`Exit::from_failure`].
impl std::error::Error for Exit {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_reasons_round_trip() {
        for exit in [
            Exit::Normal,
            Exit::shutdown(),
            Exit::shutdown_with("done: really"),
            Exit::Killed,
            Exit::NoProc,
        ] {
            assert_eq!(Exit::from_stop_reason(Some(&exit.to_stop_reason())), exit);
        }
    }

    #[test]
    fn other_stop_reasons_are_deliberate_shutdowns() {
        assert_eq!(Exit::from_stop_reason(None), Exit::Normal);
        assert_eq!(
            Exit::from_stop_reason(Some("Drained")),
            Exit::shutdown_with("Drained")
        );
    }

    #[test]
    fn failures_keep_their_typed_exit() {
        let error: ActorProcessingErr = Box::new(Exit::Panic("boom".into()));
        assert_eq!(Exit::from_failure(&error), Exit::Panic("boom".into()));
        let other: ActorProcessingErr = "plain".into();
        assert_eq!(Exit::from_failure(&other), Exit::Error("plain".into()));
    }

    #[test]
    fn panic_payloads_keep_their_message() {
        assert_eq!(
            Exit::from_panic(Box::new("static")),
            Exit::Panic("static".into())
        );
        assert_eq!(
            Exit::from_panic(Box::new(String::from("owned"))),
            Exit::Panic("owned".into())
        );
        assert!(matches!(Exit::from_panic(Box::new(7_u8)), Exit::Panic(_)));
    }
}
