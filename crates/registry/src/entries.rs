//! The entries under one key, stored inline when there is one (always, in a unique
//! registry), so a lookup reads the map's slot and no second allocation.

use arbor_actor::Pid;

/// One registration: an actor and its value.
#[derive(Clone)]
pub(crate) struct Entry<V> {
    pub(crate) pid: Pid,
    pub(crate) value: V,
}

/// The entries under one key.
pub(crate) enum Entries<V> {
    One(Entry<V>),
    Many(Vec<Entry<V>>),
}

impl<V> Entries<V> {
    pub(crate) fn as_slice(&self) -> &[Entry<V>] {
        match self {
            Entries::One(entry) => std::slice::from_ref(entry),
            Entries::Many(entries) => entries,
        }
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [Entry<V>] {
        match self {
            Entries::One(entry) => std::slice::from_mut(entry),
            Entries::Many(entries) => entries,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    pub(crate) fn push(&mut self, entry: Entry<V>) {
        match self {
            Entries::Many(entries) => entries.push(entry),
            Entries::One(_) => {
                let first = std::mem::replace(self, Entries::Many(Vec::with_capacity(2)));
                if let (Entries::One(first), Entries::Many(entries)) = (first, &mut *self) {
                    entries.extend([first, entry]);
                }
            }
        }
    }

    /// Takes out the entries `matches` accepts, keeping the others in order.
    pub(crate) fn take(&mut self, matches: impl Fn(&Entry<V>) -> bool) -> Entries<V> {
        match self {
            Entries::One(entry) if matches(entry) => {
                std::mem::replace(self, Entries::Many(Vec::new()))
            }
            Entries::One(_) => Entries::Many(Vec::new()),
            Entries::Many(entries) => {
                let (taken, kept) = std::mem::take(entries).into_iter().partition(matches);
                *entries = kept;
                Entries::Many(taken)
            }
        }
    }

    pub(crate) fn into_vec(self) -> Vec<Entry<V>> {
        match self {
            Entries::One(entry) => vec![entry],
            Entries::Many(entries) => entries,
        }
    }
}
