//! Typed names: a handle bound to a registry key, resolved at each use.

use std::any::type_name;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use arbor_actor::{GenServer, HandleCall, HandleCast, HandleInfo, Pid, Server};

use crate::registry::{Key, Value};
use crate::{Registry, RegistryError, ViaCallError, ViaSendError};

/// A kind of handle a [`Named`] resolves to: [`Server<G>`](Server) here, arbor-stage's
/// `Stage<S>` there.
pub trait Resolve: Sized {
    /// The handle to the actor `holder`, when it is of this kind.
    fn resolve(holder: &Pid) -> Option<Self>;
}

impl<G: GenServer> Resolve for Server<G> {
    fn resolve(holder: &Pid) -> Option<Self> {
        holder.server::<G>()
    }
}

/// A handle of kind `H` known by its key in a unique registry: Elixir's
/// `{:via, Registry, {registry, key}}` as a value. It looks the name up at each use, so it
/// reaches whichever incarnation holds the name now (a restarted child included), and it
/// carries its type, so a call site spells neither the registry nor the behaviour.
///
/// ```
/// use arbor_actor::{Context, GenServer, Init, Reply, Server, StartOptions};
/// use arbor_registry::{Named, Registry};
///
/// struct Cache;
/// struct Get;
/// impl GenServer for Cache {
///     type Args = u64;
///     type State = u64;
///     async fn init(&self, n: u64, _ctx: &mut Context<Self>) -> Init<u64> {
///         Init::Ready(n)
///     }
/// }
/// impl Reply<Get> for Cache {
///     type Reply = u64;
///     async fn reply(&self, _: Get, n: &mut u64) -> u64 {
///         *n
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let names: Registry<&'static str> = Registry::unique("names");
/// let cache: Named<Server<Cache>, &'static str> = names.named("cache");
/// Server::start_with(Cache, 7, StartOptions::new().via(names.via("cache", ()))).await?;
/// assert_eq!(cache.call(Get).await?, 7);
/// # Ok(())
/// # }
/// ```
pub struct Named<H, K, V = ()> {
    registry: Registry<K, V>,
    key: K,
    handle: PhantomData<fn() -> H>,
}

impl<K: Key, V: Value> Registry<K, V> {
    /// A typed name for `key` in this registry (see [`Named`]).
    pub fn named<H: Resolve>(&self, key: K) -> Named<H, K, V> {
        Named {
            registry: self.clone(),
            key,
            handle: PhantomData,
        }
    }

    /// The handle of kind `H` to the actor holding `key`.
    pub(crate) fn resolve<H: Resolve>(&self, key: &K) -> Result<H, RegistryError> {
        let holder = self.whereis(key)?;
        H::resolve(&holder).ok_or_else(|| RegistryError::WrongBehaviour {
            key: format!("{key:?}"),
            holder,
            expected: type_name::<H>(),
        })
    }
}

impl<H: Resolve, K: Key, V: Value> Named<H, K, V> {
    /// The handle to the actor holding the name now.
    ///
    /// # Errors
    ///
    /// [`RegistryError::NotRegistered`] when nobody holds it, [`RegistryError::UniqueOnly`]
    /// on a duplicate registry, [`RegistryError::WrongBehaviour`] when its holder is not
    /// an `H`.
    pub fn get(&self) -> Result<H, RegistryError> {
        self.registry.resolve(&self.key)
    }

    /// The key.
    pub fn key(&self) -> &K {
        &self.key
    }

    /// The registry the name lives in.
    pub fn registry(&self) -> &Registry<K, V> {
        &self.registry
    }
}

impl<G: GenServer, K: Key, V: Value> Named<Server<G>, K, V> {
    /// Calls the server holding the name ([`Server::call`] by name).
    ///
    /// # Errors
    ///
    /// [`ViaCallError::Lookup`] when the name does not resolve (see [`Named::get`]);
    /// [`ViaCallError::Call`] when the call fails.
    ///
    /// # Cancel safety
    ///
    /// As [`Server::call`]: dropping the future abandons the call; the request may still be
    /// handled.
    pub async fn call<M>(&self, request: M) -> Result<G::Reply, ViaCallError>
    where
        G: HandleCall<M>,
        M: Send + 'static,
    {
        Ok(self.get()?.call(request).await?)
    }

    /// [`Named::call`] with its own timeout.
    ///
    /// # Errors
    ///
    /// As [`Named::call`].
    ///
    /// # Cancel safety
    ///
    /// As [`Named::call`].
    pub async fn call_timeout<M>(
        &self,
        request: M,
        timeout: Duration,
    ) -> Result<G::Reply, ViaCallError>
    where
        G: HandleCall<M>,
        M: Send + 'static,
    {
        Ok(self.get()?.call_timeout(request, timeout).await?)
    }

    /// Casts to the server holding the name ([`Server::cast`] by name).
    ///
    /// # Errors
    ///
    /// [`ViaSendError`] with the message, when the name does not resolve or its server
    /// stopped before the message reached it.
    pub fn cast<M>(&self, message: M) -> Result<(), ViaSendError<M>>
    where
        G: HandleCast<M>,
        M: Send + 'static,
    {
        self.registry.cast::<G, M>(&self.key, message)
    }

    /// Sends a plain message to the server holding the name ([`Server::send`] by name).
    ///
    /// # Errors
    ///
    /// As [`Named::cast`].
    pub fn send<M>(&self, message: M) -> Result<(), ViaSendError<M>>
    where
        G: HandleInfo<M>,
        M: Send + 'static,
    {
        self.registry.send::<G, M>(&self.key, message)
    }
}

impl<H, K: Clone, V> Clone for Named<H, K, V> {
    fn clone(&self) -> Self {
        Named {
            registry: self.registry.clone(),
            key: self.key.clone(),
            handle: PhantomData,
        }
    }
}

impl<H, K: Key, V: Value> fmt::Debug for Named<H, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Named")
            .field("registry", &self.registry.name())
            .field("key", &self.key)
            .field("handle", &type_name::<H>())
            .finish()
    }
}
