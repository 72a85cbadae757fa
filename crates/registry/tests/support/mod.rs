//! A worker whose every way of stopping a test can trigger, and a registry of its kind.
#![allow(dead_code, unreachable_pub)]

use arbor_actor::{
    CallOutcome, Caller, Context, Exit, GenServer, HandleCall, HandleCast, HandleInfo, Init,
    Outcome, Server,
};
use tokio::sync::mpsc;

/// A worker: answers `Ping`, stops on `StopWith`, panics on `Crash`.
#[derive(Clone, Default)]
pub struct Worker {
    /// Told what the worker saw of itself in `init`, if set.
    pub seen_in_init: Option<mpsc::UnboundedSender<String>>,
}

/// The start argument that makes `init` fail.
pub const REFUSE: u32 = u32::MAX;

pub struct Ping;
pub struct StopWith(pub Exit);
pub struct Crash;
pub struct Bump(pub u32);

impl GenServer for Worker {
    type Args = u32;
    type State = u32;

    async fn init(&self, start: u32, ctx: &mut Context<Self>) -> Init<u32> {
        if start == REFUSE {
            return Init::Stop(Exit::error("refused to start"));
        }
        if let Some(seen) = &self.seen_in_init {
            let _ = seen.send(ctx.myself().name().unwrap_or("unnamed").to_string());
        }
        Init::Ready(start)
    }
}

impl HandleCall<Ping> for Worker {
    type Reply = u32;
    async fn handle_call(
        &self,
        _: Ping,
        _: Caller<'_, u32>,
        count: &mut u32,
        _: &mut Context<Self>,
    ) -> CallOutcome<u32> {
        CallOutcome::Reply(*count)
    }
}

impl HandleCall<StopWith> for Worker {
    type Reply = ();
    async fn handle_call(
        &self,
        StopWith(exit): StopWith,
        _: Caller<'_, ()>,
        _: &mut u32,
        _: &mut Context<Self>,
    ) -> CallOutcome<()> {
        CallOutcome::Stop(exit)
    }
}

impl HandleCast<Crash> for Worker {
    async fn handle_cast(&self, _: Crash, _: &mut u32, _: &mut Context<Self>) -> Outcome {
        panic!("worker crashed on purpose")
    }
}

impl HandleCast<Bump> for Worker {
    async fn handle_cast(&self, Bump(by): Bump, count: &mut u32, _: &mut Context<Self>) -> Outcome {
        *count += by;
        Outcome::NoReply
    }
}

impl HandleInfo<Bump> for Worker {
    async fn handle_info(&self, Bump(by): Bump, count: &mut u32, _: &mut Context<Self>) -> Outcome {
        *count += by;
        Outcome::NoReply
    }
}

pub async fn worker() -> Server<Worker> {
    Server::start(Worker::default(), 0).await.unwrap()
}
