//! Restart kinds: when a child that exited is started again.

use arbor_actor::Exit;

/// When a child is restarted after it exits (OTP's `restart` child-spec key).
///
/// | kind        | restarted after                  | spec kept after a final exit |
/// |-------------|----------------------------------|------------------------------|
/// | `Permanent` | every exit                       | yes                          |
/// | `Transient` | abnormal exits only              | yes                          |
/// | `Temporary` | never                            | no: removed                  |
///
/// # Examples
///
/// ```
/// use arbor_actor::Exit;
/// use arbor_supervisor::Restart;
///
/// assert!(Restart::Transient.restarts_after(&Exit::error("crash")));
/// assert!(!Restart::Transient.restarts_after(&Exit::shutdown()));
/// assert!(!Restart::Temporary.restarts_after(&Exit::error("crash")));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Restart {
    /// Always restarted (the default).
    #[default]
    Permanent,
    /// Restarted only after an abnormal exit (not `Normal` nor `Shutdown`).
    Transient,
    /// Never restarted, and removed from the supervisor when it exits.
    Temporary,
}

impl Restart {
    /// Whether a child of this kind is restarted after exiting with `exit`.
    pub fn restarts_after(self, exit: &Exit) -> bool {
        match self {
            Restart::Permanent => true,
            Restart::Transient => exit.is_abnormal(),
            Restart::Temporary => false,
        }
    }
}
