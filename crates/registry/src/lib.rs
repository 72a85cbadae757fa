//! A process registry: map keys to running servers (and a value per entry), look them up
//! without going through a mailbox, and start servers already registered under a name.
//!
//! This crate is being built (see the project's issues): it will hold `Registry<K, V>`
//! with unique or duplicate keys, `select`, `dispatch` and via-naming for
//! [`arbor_actor::Server`], in the shape of Elixir's `Registry`.
#![deny(clippy::unwrap_used, clippy::expect_used)]
