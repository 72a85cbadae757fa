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
/// use arbor_actor::{Context, GenServer, Init, Naming, Pid, Server, StartError, StartOptions};
///
/// #[derive(Debug, Default, Clone)]
/// struct OneName(Arc<Mutex<Option<Pid>>>);
///
/// impl Naming for OneName {
///     fn register(&self, pid: &Pid) -> Result<(), Pid> {
///         let mut slot = self.0.lock().unwrap();
///         match slot.as_ref().filter(|holder| holder.is_alive()) {
///             Some(holder) => Err(holder.clone()),
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
    /// The live holder of the name, when it is taken; the start then fails.
    fn register(&self, pid: &Pid) -> Result<(), Pid>;

    /// The name, as shown in logs and errors.
    fn name(&self) -> String;
}
