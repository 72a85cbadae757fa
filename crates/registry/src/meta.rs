//! Registry-level metadata: a few named values stored beside the entries.

use std::any::{type_name, Any};
use std::sync::Arc;

use dashmap::DashMap;

use crate::registry::{Key, Value};
use crate::{Registry, RegistryError};

/// Named values of any type, read without a mailbox.
#[derive(Default)]
pub(crate) struct Meta {
    values: DashMap<Arc<str>, Arc<dyn Any + Send + Sync>>,
}

impl<K: Key, V: Value> Registry<K, V> {
    /// Stores `value` under `name`, replacing what was there (Elixir's `put_meta`).
    pub fn put_meta<T: Any + Send + Sync>(&self, name: &str, value: T) {
        self.inner
            .meta
            .values
            .insert(Arc::from(name), Arc::new(value));
    }

    /// The value stored under `name` (Elixir's `meta`).
    ///
    /// # Errors
    ///
    /// [`RegistryError::NoMeta`] when nothing is stored under `name`;
    /// [`RegistryError::MetaType`] when the value there is not a `T`.
    pub fn meta<T: Any + Send + Sync + Clone>(&self, name: &str) -> Result<T, RegistryError> {
        let stored = self
            .inner
            .meta
            .values
            .get(name)
            .map(|value| Arc::clone(value.value()))
            .ok_or_else(|| RegistryError::NoMeta(name.to_string()))?;
        stored
            .downcast_ref::<T>()
            .cloned()
            .ok_or_else(|| RegistryError::MetaType {
                name: name.to_string(),
                expected: type_name::<T>(),
            })
    }

    /// Removes the value stored under `name`; `true` if there was one.
    pub fn delete_meta(&self, name: &str) -> bool {
        self.inner.meta.values.remove(name).is_some()
    }
}
