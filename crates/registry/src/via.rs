//! Via-naming: start servers registered under a key, and reach them by that key.

use std::fmt;

use arbor_actor::{GenServer, HandleCall, HandleCast, HandleInfo, NameError, Naming, Pid, Server};

use crate::registry::{Key, Value};
use crate::{RegisterError, Registry, RegistryError, ViaCallError, ViaSendError};

/// A name in a unique registry, to start a server under with
/// [`StartOptions::via`](arbor_actor::StartOptions::via) or
/// [`ChildSpec::worker_with`](arbor_supervisor::ChildSpec::worker_with): the server is
/// registered before its `init` runs, and every restart registers again.
///
/// # Examples
///
/// ```
/// use arbor_actor::{CallOutcome, Caller, Context, GenServer, HandleCall, Init, Server, StartError, StartOptions};
/// use arbor_registry::Registry;
///
/// struct Counter;
/// impl GenServer for Counter {
///     type Args = u64;
///     type State = u64;
///     async fn init(&self, start: u64, _ctx: &mut Context<Self>) -> Init<u64> {
///         Init::Ready(start)
///     }
/// }
/// struct Get;
/// impl HandleCall<Get> for Counter {
///     type Reply = u64;
///     async fn handle_call(&self, _: Get, _: Caller<'_, u64>, n: &mut u64, _: &mut Context<Self>) -> CallOutcome<u64> {
///         CallOutcome::Reply(*n)
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let names: Registry<&'static str> = Registry::unique("names");
/// let options = StartOptions::new().via(names.via("counter", ()));
/// Server::start_with(Counter, 7, options.clone()).await?;
///
/// assert_eq!(names.call::<Counter, _>(&"counter", Get).await?, 7);
/// // The name is taken: a second start fails, naming the holder.
/// let again = Server::start_with(Counter, 0, options).await;
/// assert!(matches!(again, Err(StartError::AlreadyStarted { .. })));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Via<K, V = ()> {
    registry: Registry<K, V>,
    key: K,
    value: V,
}

impl<K: Key, V: Value> Naming for Via<K, V> {
    fn register(&self, pid: &Pid) -> Result<(), NameError> {
        // A name has one holder: on a duplicate registry the start fails (Elixir raises).
        if let Err(error) = self.registry.inner.unique_only("via") {
            return Err(NameError::Refused(error.to_string()));
        }
        match self
            .registry
            .register(self.key.clone(), pid, self.value.clone())
        {
            Ok(()) => Ok(()),
            Err(RegisterError::AlreadyRegistered { holder, .. }) => Err(NameError::Taken(holder)),
            // A server whose init has not run is alive, unless it is being killed
            // already: then no one holds the name, and the start fails all the same.
            Err(error @ RegisterError::NotAlive(_)) => Err(NameError::Refused(error.to_string())),
        }
    }

    fn name(&self) -> String {
        format!("{}/{:?}", self.registry.name(), self.key)
    }
}

impl<K: fmt::Debug, V> fmt::Debug for Via<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Via")
            .field("registry", &self.registry.inner.options.name)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl<K: Key, V: Value> Registry<K, V> {
    /// The name `key` (with `value` as the entry's value), to start a server under.
    ///
    /// A name has one holder, so only a unique registry can give it: a server started
    /// under a `via` name of a duplicate registry fails to start with
    /// [`StartError::NameRefused`](arbor_actor::StartError::NameRefused) (Elixir raises at
    /// the same moment), and its `init` never runs.
    pub fn via(&self, key: K, value: V) -> Via<K, V> {
        Via {
            registry: self.clone(),
            key,
            value,
        }
    }

    /// The server of behaviour `G` holding `key`.
    ///
    /// # Errors
    ///
    /// [`RegistryError::NotRegistered`], [`RegistryError::UniqueOnly`], or
    /// [`RegistryError::WrongBehaviour`] when the holder is not a `G` server.
    pub fn server<G: GenServer>(&self, key: &K) -> Result<Server<G>, RegistryError> {
        self.resolve::<Server<G>>(key)
    }

    /// Calls the server holding `key` ([`Server::call`] by name).
    ///
    /// # Errors
    ///
    /// [`ViaCallError::Lookup`] when the name does not resolve (see [`Registry::server`]);
    /// [`ViaCallError::Call`] when the call fails.
    ///
    /// # Cancel safety
    ///
    /// As [`Server::call`](arbor_actor::Server::call): dropping the future abandons the call; the
    /// request may still be handled.
    pub async fn call<G, M>(&self, key: &K, request: M) -> Result<G::Reply, ViaCallError>
    where
        G: HandleCall<M>,
        M: Send + 'static,
    {
        Ok(self.server::<G>(key)?.call(request).await?)
    }

    /// Casts to the server holding `key` ([`Server::cast`] by name).
    ///
    /// # Errors
    ///
    /// [`ViaSendError`] with the message, when the name does not resolve or its server
    /// stopped before the message reached it.
    pub fn cast<G, M>(&self, key: &K, message: M) -> Result<(), ViaSendError<M>>
    where
        G: HandleCast<M>,
        M: Send + 'static,
    {
        self.deliver::<G, M>(key, message, |server, message| {
            server.cast(message).map_err(|error| error.into_inner())
        })
    }

    /// Sends a plain message to the server holding `key` ([`Server::send`] by name).
    ///
    /// # Errors
    ///
    /// As [`Registry::cast`].
    pub fn send<G, M>(&self, key: &K, message: M) -> Result<(), ViaSendError<M>>
    where
        G: HandleInfo<M>,
        M: Send + 'static,
    {
        self.deliver::<G, M>(key, message, |server, message| {
            server.send(message).map_err(|error| error.into_inner())
        })
    }

    fn deliver<G: GenServer, M>(
        &self,
        key: &K,
        message: M,
        send: impl FnOnce(&Server<G>, M) -> Result<(), M>,
    ) -> Result<(), ViaSendError<M>> {
        let server = match self.server::<G>(key) {
            Ok(server) => server,
            Err(reason) => return Err(ViaSendError { reason, message }),
        };
        send(&server, message).map_err(|message| ViaSendError {
            reason: self.inner.not_registered(key),
            message,
        })
    }
}
