//! Supervision trees: a supervisor starts its children in order, restarts them when they
//! exit as their [restart kind] says, and gives up — exiting itself — when they restart
//! too often.
//!
//! This crate is being built (see the project's issues): it will hold `ChildSpec`,
//! `Supervisor` (one_for_one / one_for_all / rest_for_one, restart intensity, ordered start
//! and shutdown) and `DynamicSupervisor`, supervising any [`arbor_actor::Server`].
//!
//! [restart kind]: https://hexdocs.pm/elixir/Supervisor.html#module-restart-values-restart
