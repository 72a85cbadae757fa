//! A process registry: keys mapped to running actors, each entry with a value, read
//! without going through any mailbox (Elixir's `Registry`).
//!
//! ```text
//!  register(key, actor, value) ──▶ ┌───────────────────────────────┐ ◀── lookup / select
//!                                  │ key ─▶ [(actor, value), ..]  │     (no mailbox: a
//!  actor stops ──(on_stop hook)──▶ │ actor ─▶ its keys            │      sharded map)
//!                                  └───────────────────────────────┘
//! ```
//!
//! A [`Registry`] has [`Keys::Unique`] keys (a key names one actor: names, via-naming)
//! or [`Keys::Duplicate`] keys (a key names many: pub/sub topics with
//! [`Registry::dispatch`]). An actor's entries go when it stops, for any reason, before
//! anyone can see it stopped. Servers can be started already registered
//! ([`Registry::via`]), and called, cast and sent to by key.
//!
//! ```
//! use arbor_actor::{CallOutcome, Caller, Context, GenServer, HandleCall, Init, Server, StartOptions};
//! use arbor_registry::Registry;
//!
//! #[derive(Clone, Debug, PartialEq)]
//! enum JobType { Import, Send }
//!
//! struct Job;
//! impl GenServer for Job {
//!     type Args = ();
//!     type State = ();
//!     async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> {
//!         Init::Ready(())
//!     }
//! }
//! struct Status;
//! impl HandleCall<Status> for Job {
//!     type Reply = &'static str;
//!     async fn handle_call(&self, _: Status, _: Caller<'_, &'static str>, _: &mut (), _: &mut Context<Self>) -> CallOutcome<&'static str> {
//!         CallOutcome::Reply("running")
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let jobs: Registry<String, JobType> = Registry::unique("jobs");
//! // Started already named: no moment runs unnamed.
//! let via = jobs.via("job-1".to_string(), JobType::Import);
//! let job = Server::start_with(Job, (), StartOptions::new().via(via)).await?;
//!
//! assert_eq!(jobs.call::<Job, _>(&"job-1".to_string(), Status).await?, "running");
//! assert_eq!(jobs.count_select(|_, _, kind| *kind == JobType::Import), 1);
//! assert_eq!(jobs.count_select(|_, _, kind| *kind == JobType::Send), 0);
//!
//! job.kill();
//! job.wait().await;
//! assert_eq!(jobs.count(), 0);
//! # Ok(())
//! # }
//! ```
//!
//! # Guarantees
//!
//! - Reads never return an entry of an arbor server whose stop is decided: its entries
//!   are removed when the stop is decided (before `terminate`, before any call fails),
//!   and every read checks liveness as well. Plain ractor actors have no such hook;
//!   reads skip their entries once ractor marks them stopping, and purge them.
//! - A unique key has at most one live holder; registering it again fails with
//!   [`RegisterError::AlreadyRegistered`], naming the holder.
//! - Callbacks given to [`Registry::select`], [`Registry::count_select`],
//!   [`Registry::match_entries`], [`Registry::count_match`], [`Registry::unregister_match`]
//!   and [`Registry::update_value`] run under a table lock. They must not call back into
//!   the same registry, and must not kill an actor registered in it: a kill runs the
//!   actor's stop hooks at once, on the killer's thread, and the registry's hook takes
//!   the same lock. [`Registry::dispatch`] runs its callback outside any lock.
//!
//! See `docs/guide-registry.md` for the guide.
#![doc(test(attr(deny(warnings))))]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![forbid(unsafe_code)]

mod child_spec;
mod entries;
mod error;
mod listener;
mod lock;
mod lookup;
mod meta;
mod named;
mod options;
mod query;
mod registry;
mod telemetry;
mod via;

pub use error::{LockError, RegisterError, RegistryError, ViaCallError, ViaSendError};
pub use listener::{RegistryEvent, RegistryEvents};
pub use lookup::{Lookup, LookupIter};
pub use named::{Named, Resolve};
pub use options::{Keys, RegistryOptions};
pub use registry::{Key, Registry, Value};
pub use via::Via;
