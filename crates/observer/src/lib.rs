//! A live web view of a running arbor application: Erlang's observer, in a browser.
//!
//! ```text
//!  browser ── GET /              the page: the tree, each stage's throughput, metrics
//!     │       GET /api/events    a snapshot every interval (server-sent events)
//!     │       GET /api/tree      the tree (`Supervisor::tree`) as JSON
//!     │       GET /api/stages    the stages found in it
//!     │       GET /api/snapshot  tree + stages + metrics, once
//!     │       GET /metrics       Prometheus text (with a recorder)
//!     └────── POST /api/actors/{actor}/restart|stop   with the token, when enabled
//! ```
//!
//! Safe by default: it listens on loopback unless
//! [`allow_non_loopback`](ObserverBuilder::allow_non_loopback) is asked for, and it is
//! read-only unless [`enable_actions`](ObserverBuilder::enable_actions) is; then every
//! action must carry the random token made at start (`Authorization: Bearer <token>`),
//! and one without it, or with a wrong one, gets `403 Forbidden` and changes nothing. On
//! loopback, a request addressed to a host name other than `localhost` is refused too (a
//! page elsewhere cannot rebind its name to 127.0.0.1 and read the tree).
//!
//! *Restart* kills the child, so its supervisor restarts it as its restart kind says
//! (the page then shows the new incarnation: a new actor id); *stop* asks its supervisor
//! to terminate it within its `shutdown` (OTP's `terminate_child`), and it stays
//! stopped.
//!
//! The page draws what each tree node carries: per-actor `stats` (`messages`,
//! `restarts`, `mailbox`) and a stage's `stage` section (`kind`, `subscriptions`,
//! `demand`, `buffered`, `events_in`, `events_out`) where the snapshot has them; a
//! stage's throughput is the rise of `events_out` (or `messages`) between updates.
//!
//! ```no_run
//! use arbor_observer::Observer;
//! use arbor_supervisor::{Supervisor, SupervisorOptions};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     # let children = [];
//!     let root = Supervisor::start(children, SupervisorOptions::one_for_one().name("app")).await?;
//!     let observer = Observer::builder(root.clone()) // 127.0.0.1:9000
//!         .install_prometheus()
//!         .enable_actions()
//!         .start()
//!         .await?;
//!     eprintln!("observer: {}", observer.url_with_token());
//!     root.wait().await;
//!     Ok(())
//! }
//! ```
#![doc(test(attr(deny(warnings))))]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![forbid(unsafe_code)]

mod actions;
mod error;
mod live;
mod observer;
mod routes;
mod snapshot;
mod token;

pub use error::ObserverError;
pub use observer::{Observer, ObserverBuilder, DEFAULT_ADDR, DEFAULT_INTERVAL};
