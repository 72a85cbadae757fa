//! Demand-driven pipelines: producers emit events only when consumers ask for them, so a
//! slow stage slows the stages before it instead of growing their mailboxes.
//!
//! This crate is being built (see the project's issues): it will hold GenStage's
//! producers, producer-consumers and consumers, the demand, broadcast and partition
//! dispatchers, and `ConsumerSupervisor`, every stage being a supervised
//! [`arbor_actor::Server`]-like actor.
#![deny(clippy::unwrap_used, clippy::expect_used)]
