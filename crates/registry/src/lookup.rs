//! `Lookup`: what a lookup found, held without an allocation when it is one entry.

use std::fmt;
use std::ops::Deref;

use arbor_actor::Pid;

/// The live entries found under a key, as `(actor, value)` pairs: a slice to read, or an
/// iterator to consume. A unique key's lookup finds at most one entry, which is held
/// inline: looking up a name allocates nothing.
///
/// # Examples
///
/// ```
/// # use arbor_actor::{Context, GenServer, Init, Server};
/// # struct Idle;
/// # impl GenServer for Idle {
/// #     type Args = ();
/// #     type State = ();
/// #     async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> { Init::Ready(()) }
/// # }
/// use arbor_registry::Registry;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let names: Registry<&str, u32> = Registry::unique("names");
/// let server = Server::start(Idle, ()).await?;
/// names.register("a", &server, 7)?;
///
/// let found = names.lookup(&"a");
/// assert_eq!(found.len(), 1);
/// assert_eq!(found[0].1, 7);
/// for (pid, value) in found {
///     assert_eq!((pid, value), (server.pid(), 7));
/// }
/// assert!(names.lookup(&"b").is_empty());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Lookup<V> {
    found: Found<V>,
}

#[derive(Clone)]
enum Found<V> {
    One([(Pid, V); 1]),
    Many(Vec<(Pid, V)>),
}

impl<V> Lookup<V> {
    pub(crate) fn new() -> Self {
        Lookup {
            found: Found::Many(Vec::new()),
        }
    }

    pub(crate) fn push(&mut self, entry: (Pid, V)) {
        match &mut self.found {
            Found::Many(entries) if entries.is_empty() => self.found = Found::One([entry]),
            Found::Many(entries) => entries.push(entry),
            Found::One(_) => {
                let first = std::mem::replace(&mut self.found, Found::Many(Vec::with_capacity(2)));
                if let (Found::One([first]), Found::Many(entries)) = (first, &mut self.found) {
                    entries.extend([first, entry]);
                }
            }
        }
    }

    /// The entries, as a `Vec`.
    pub fn into_vec(self) -> Vec<(Pid, V)> {
        match self.found {
            Found::One(one) => Vec::from(one),
            Found::Many(entries) => entries,
        }
    }
}

impl<V> Deref for Lookup<V> {
    type Target = [(Pid, V)];

    fn deref(&self) -> &[(Pid, V)] {
        match &self.found {
            Found::One(one) => one,
            Found::Many(entries) => entries,
        }
    }
}

impl<V> IntoIterator for Lookup<V> {
    type Item = (Pid, V);
    type IntoIter = LookupIter<V>;

    fn into_iter(self) -> LookupIter<V> {
        match self.found {
            Found::One(one) => LookupIter(Entries::One(one.into_iter())),
            Found::Many(entries) => LookupIter(Entries::Many(entries.into_iter())),
        }
    }
}

impl<'a, V> IntoIterator for &'a Lookup<V> {
    type Item = &'a (Pid, V);
    type IntoIter = std::slice::Iter<'a, (Pid, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The owning iterator of a [`Lookup`].
pub struct LookupIter<V>(Entries<V>);

/// Where a [`LookupIter`] takes its entries from: one held inline, or many.
enum Entries<V> {
    One(std::array::IntoIter<(Pid, V), 1>),
    Many(std::vec::IntoIter<(Pid, V)>),
}

impl<V> Iterator for LookupIter<V> {
    type Item = (Pid, V);

    fn next(&mut self) -> Option<(Pid, V)> {
        match &mut self.0 {
            Entries::One(one) => one.next(),
            Entries::Many(many) => many.next(),
        }
    }
}

impl<V: PartialEq> PartialEq for Lookup<V> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<V: PartialEq> PartialEq<Vec<(Pid, V)>> for Lookup<V> {
    fn eq(&self, other: &Vec<(Pid, V)>) -> bool {
        **self == **other
    }
}

impl<V: fmt::Debug> fmt::Debug for Lookup<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<V> fmt::Debug for LookupIter<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LookupIter").finish_non_exhaustive()
    }
}
