//! A registry in a supervision tree: a small server that owns the registry's lifetime.

use arbor_actor::{Context, Exit, GenServer, Init, StartOptions};
use arbor_supervisor::ChildSpec;

use crate::registry::{Key, Value};
use crate::Registry;

/// The child a registry is in its tree: started before the children that register in
/// it, stopped after them; the registry is emptied when it stops, as Elixir's registry
/// tables go with their supervisor.
struct Keeper<K, V> {
    registry: Registry<K, V>,
}

impl<K, V> Clone for Keeper<K, V> {
    fn clone(&self) -> Self {
        Keeper {
            registry: self.registry.clone(),
        }
    }
}

impl<K: Key, V: Value> GenServer for Keeper<K, V> {
    type Args = ();
    type State = ();

    async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> {
        tracing::debug!(registry = self.registry.name(), "registry started");
        Init::Ready(())
    }

    async fn terminate(&self, reason: &Exit, _: &mut (), _ctx: &mut Context<Self>) {
        let dropped = self.registry.inner.clear();
        tracing::debug!(
            registry = self.registry.name(),
            %reason,
            entries = dropped,
            "registry stopped; its entries are gone"
        );
    }
}

impl<K: Key, V: Value> Registry<K, V> {
    /// A child spec that places this registry in a supervision tree under `id`. List it
    /// before the children that register in it: they start after it and stop before it.
    /// When it stops, the registry is emptied.
    ///
    /// # Examples
    ///
    /// ```
    /// use arbor_registry::Registry;
    /// use arbor_supervisor::{Supervisor, SupervisorOptions};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let jobs: Registry<String, String> = Registry::unique("jobs");
    /// let tree = Supervisor::start([jobs.child_spec("job_registry")], SupervisorOptions::default()).await?;
    /// assert_eq!(tree.count_children().await?.workers, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn child_spec(&self, id: impl Into<String>) -> ChildSpec {
        let keeper = Keeper {
            registry: self.clone(),
        };
        let options = StartOptions::new().name(self.name());
        ChildSpec::worker_with(id, keeper, (), options)
    }
}
