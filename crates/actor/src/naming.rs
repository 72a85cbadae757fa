//! Via-naming: start a server already registered in a name service (OTP's
//! `{:via, module, name}`).

use std::fmt;

use crate::Pid;

/// A name service a server can be started under with [`StartOptions::via`]: the server
/// is registered after its actor exists and before `init` runs, so it never runs unnamed,
/// and a taken name fails the start with [`StartError::AlreadyStarted`].
///
/// A registry implements it (arbor-registry's `Registry::via`). Removing the name when
/// the server stops is the service's business: [`Pid::on_stop`] tells it when.
///
/// # Examples
///
/// A name service that holds one name at most:
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use arbor_actor::{Context, GenServer, Init, NameError, Naming, Pid, Server, StartError, StartOptions};
///
/// #[derive(Debug, Default, Clone)]
/// struct OneName(Arc<Mutex<Option<Pid>>>);
///
/// impl Naming for OneName {
///     fn register(&self, pid: &Pid) -> Result<(), NameError> {
///         let mut slot = self.0.lock().unwrap();
///         match slot.as_ref().filter(|holder| !holder.is_stopping()) {
///             Some(holder) => Err(NameError::Taken(holder.clone())),
///             None => {
///                 *slot = Some(pid.clone());
///                 Ok(())
///             }
///         }
///     }
///     fn name(&self) -> String {
///         "the-one".to_string()
///     }
/// }
///
/// struct Idle;
/// impl GenServer for Idle {
///     type Args = ();
///     type State = ();
///     async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> {
///         Init::Ready(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let names = OneName::default();
/// let first = Server::start_with(Idle, (), StartOptions::new().via(names.clone())).await?;
/// let second = Server::start_with(Idle, (), StartOptions::new().via(names.clone())).await;
/// assert!(matches!(second, Err(StartError::AlreadyStarted { holder, .. }) if holder == first.pid()));
/// # Ok(())
/// # }
/// ```
///
/// [`StartOptions::via`]: crate::StartOptions::via
/// [`StartError::AlreadyStarted`]: crate::StartError::AlreadyStarted
pub trait Naming: fmt::Debug + Send + Sync + 'static {
    /// Registers `pid`, a server whose `init` has not run yet.
    ///
    /// # Errors
    ///
    /// [`NameError::Taken`] with the live holder of the name, when it is taken (the start
    /// fails with [`StartError::AlreadyStarted`](crate::StartError::AlreadyStarted)); [`NameError::Refused`] when the service
    /// cannot give this name at all (the start fails with [`StartError::NameRefused`]).
    ///
    /// [`StartError::NameRefused`]: crate::StartError::NameRefused
    fn register(&self, pid: &Pid) -> Result<(), NameError>;

    /// The name, as shown in logs and errors.
    fn name(&self) -> String;
}

/// Why a [`Naming`] service did not register a server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The name is held by this live server.
    #[error("the name is held by {0}")]
    Taken(Pid),
    /// The service cannot give this name to this server at all (for example: a registry
    /// whose keys are not unique, or a server that is already stopping); the text says why.
    #[error("{0}")]
    Refused(String),
}
