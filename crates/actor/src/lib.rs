//! GenServer for Rust: a server is a task that owns its state and handles calls, casts
//! and plain messages one at a time, on top of [ractor] and tokio.
//!
//! ```text
//!  client ──call(Get)──▶ ┌──────────────┐
//!         ◀──── 5 ────── │  Server<G>   │  state: owned by the server's task
//!  client ──cast(Add)──▶ │  mailbox ▶ G │  one message at a time, per-sender order
//!  timer  ──send(Tick)─▶ └──────────────┘
//! ```
//!
//! A behaviour is a type implementing [`GenServer`] (only `init` is required) plus one
//! small trait per message it understands: [`HandleCall<M>`] (with its `Reply` type),
//! [`HandleCast<M>`], [`HandleInfo<M>`] and [`HandleContinue<M>`]. The caller of
//! [`Server::call`] gets the reply type of the request it sent — no reply enum to match.
//!
//! ```
//! use arbor_actor::{CallOutcome, Caller, Context, GenServer, HandleCall, HandleCast, Init, Outcome, Server};
//!
//! /// The classic stack server.
//! struct Stack;
//!
//! impl GenServer for Stack {
//!     type Args = Vec<i32>;
//!     type State = Vec<i32>;
//!     async fn init(&self, items: Vec<i32>, _ctx: &mut Context<Self>) -> Init<Vec<i32>> {
//!         Init::Ready(items)
//!     }
//! }
//!
//! struct Push(i32);
//! impl HandleCast<Push> for Stack {
//!     async fn handle_cast(&self, Push(item): Push, stack: &mut Vec<i32>, _ctx: &mut Context<Self>) -> Outcome {
//!         stack.push(item);
//!         Outcome::NoReply
//!     }
//! }
//!
//! struct Pop;
//! impl HandleCall<Pop> for Stack {
//!     type Reply = Option<i32>;
//!     async fn handle_call(&self, _: Pop, _from: Caller<'_, Option<i32>>, stack: &mut Vec<i32>, _ctx: &mut Context<Self>) -> CallOutcome<Option<i32>> {
//!         CallOutcome::Reply(stack.pop())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let stack = Server::start(Stack, vec![1]).await?; // returns once init has run
//! stack.cast(Push(2))?;                             // fire and forget
//! assert_eq!(stack.call(Pop).await?, Some(2));      // Option<i32>, typed by `Pop`
//! assert_eq!(stack.call(Pop).await?, Some(1));
//! assert_eq!(stack.call(Pop).await?, None);
//! # Ok(())
//! # }
//! ```
//!
//! # Guidelines
//!
//! - Keep callbacks short: while one runs, the server's mailbox waits. Long work belongs
//!   in a task that answers through a deferred [`ReplyTo`].
//! - Never `call` a server from its own callbacks: the call would wait for itself.
//!   arbor detects it and returns [`CallError::SelfCall`]. Cycles through other servers
//!   (A calls B while B calls A) are not detected; they end in [`CallError::Timeout`], as
//!   in OTP.
//! - Let it crash: a panic in a callback becomes [`Exit::Panic`], is logged at error
//!   level with the server's name, runs `terminate`, and reaches the server's supervisor.
//!
//! # Guarantees
//!
//! - `start` returns after `init`; `handle_continue` runs before any queued message.
//! - Messages from one sender are handled in the order sent.
//! - Every call has its own reply channel: a reply that arrives after its call timed out
//!   is dropped, never seen by a later call.
//! - A call pending when the server exits returns [`CallError::Exited`] with the exit
//!   reason; a call to a stopped server returns [`CallError::NoProc`] at once.
//! - `terminate` runs when a callback stops the server, when a callback panics, on
//!   [`Server::stop`] and on a supervisor's shutdown; not on [`Server::kill`].
//!
//!
//! # Safety
//!
//! This crate writes no `unsafe` code (`#![deny(unsafe_code)]`). The only `unsafe` it
//! relies on beyond ractor's and tokio's comes from `smallbox`, whose `smallbox!` macro
//! (the one expansion the lint lets through) holds a small message inline in its envelope
//! instead of on the heap.
//!
//! See `docs/guide-actor.md` for the guide and `docs/semantics.md` for the full contract.
#![doc(test(attr(deny(warnings))))]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![deny(unsafe_code)]

mod call;
mod context;
mod current;
mod envelope;
mod error;
mod exit;
mod handle;
mod naming;
mod outcome;
mod pid;
mod protocol;
mod record;
mod reply;
mod runtime;
mod server;
mod start;
pub mod telemetry;
mod timer;

pub use context::Context;
pub use envelope::Envelope;
pub use error::{CallError, SendError, SpawnError, StartError, StopError};
pub use exit::Exit;
pub use handle::{Server, DEFAULT_CALL_TIMEOUT};
pub use naming::{NameError, Naming};
pub use outcome::{CallOutcome, Init, Outcome};
pub use pid::{OnStop, Pid, StopHookId};
pub use protocol::{OwnProtocol, Protocol, ProtocolHandler};
pub use reply::{Caller, ReplyTo};
pub use server::{GenServer, HandleCall, HandleCast, HandleContinue, HandleInfo, Reply};
pub use start::StartOptions;
pub use telemetry::{ProcessStats, StageKind, StageSnapshot, StageStats};
pub use timer::{IdleTimeout, TimerRef};

/// ractor, re-exported so users reach the same version arbor runs on.
pub use ractor;
