//! `RegistryOptions` and `Keys`: how a registry is shaped.

use std::num::NonZeroUsize;
use std::sync::Arc;

/// Whether a key names one actor or many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keys {
    /// A key names at most one actor: registering a taken key fails, naming its holder.
    /// Via-naming needs it.
    Unique,
    /// A key names any number of entries, from one actor or many: pub/sub topics.
    Duplicate,
}

/// Options for [`Registry::new`](crate::Registry::new); every field has a default.
///
/// # Examples
///
/// ```
/// use std::num::NonZeroUsize;
/// use arbor_registry::{Keys, RegistryOptions};
///
/// let options = RegistryOptions::new(Keys::Duplicate)
///     .name("topics")
///     .partitions(NonZeroUsize::new(4).unwrap());
/// assert_eq!(options.partitions.get(), 4);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[must_use]
pub struct RegistryOptions {
    /// Unique or duplicate keys. Default: [`Keys::Unique`].
    pub keys: Keys,
    /// The registry's name, shown in logs and via names. Default: `"registry"`.
    pub name: Arc<str>,
    /// How many tables the entries are spread over. Unique registries pick a table by
    /// key, duplicate ones by actor, as Elixir does, so a duplicate lookup reads every
    /// table. Default: 1 (each table is already a sharded map).
    pub partitions: NonZeroUsize,
}

impl RegistryOptions {
    /// The defaults, with `keys`.
    pub fn new(keys: Keys) -> Self {
        RegistryOptions {
            keys,
            ..Self::default()
        }
    }

    /// Sets the name shown in logs.
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the number of partitions.
    pub fn partitions(mut self, partitions: NonZeroUsize) -> Self {
        self.partitions = partitions;
        self
    }
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            keys: Keys::Unique,
            name: Arc::from("registry"),
            partitions: NonZeroUsize::MIN,
        }
    }
}
