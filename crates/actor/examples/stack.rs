//! The classic stack server, in one screen: start, cast, typed calls, a deferred reply,
//! a crash, and what the caller sees.
//!
//! Run it with `cargo run -p arbor-actor --example stack`. You will see the calls'
//! results printed, then the crash report that `tracing` logs when a callback panics.

use std::time::Duration;

use arbor_actor::{
    CallError, CallOutcome, Caller, Context, Exit, GenServer, HandleCall, HandleCast, Init,
    Outcome, ReplyTo, Server, StartOptions,
};

/// A stack of integers; `Pop` on an empty stack waits until something is pushed.
struct Stack;

struct State {
    items: Vec<i64>,
    waiting: Vec<ReplyTo<i64>>,
}

impl GenServer for Stack {
    type Args = Vec<i64>;
    type State = State;

    async fn init(&self, items: Vec<i64>, _ctx: &mut Context<Self>) -> Init<State> {
        Init::Ready(State {
            items,
            waiting: Vec::new(),
        })
    }

    async fn terminate(&self, reason: &Exit, state: &mut State, _ctx: &mut Context<Self>) {
        tracing::info!(%reason, left = state.items.len(), "stack terminating");
    }
}

/// Push an item (a cast: fire and forget).
struct Push(i64);

impl HandleCast<Push> for Stack {
    async fn handle_cast(
        &self,
        Push(item): Push,
        state: &mut State,
        _ctx: &mut Context<Self>,
    ) -> Outcome {
        match state.waiting.pop() {
            // Someone is blocked in `Pop`: hand the item straight to them.
            Some(reply) => {
                reply.reply(item);
            }
            None => state.items.push(item),
        }
        Outcome::NoReply
    }
}

/// Pop an item (a call: the reply type is `i64`).
struct Pop;

impl HandleCall<Pop> for Stack {
    type Reply = i64;

    async fn handle_call(
        &self,
        _: Pop,
        from: Caller<'_, i64>,
        state: &mut State,
        _ctx: &mut Context<Self>,
    ) -> CallOutcome<i64> {
        match state.items.pop() {
            Some(item) => CallOutcome::Reply(item),
            None => {
                // Answer later, when an item arrives (OTP's {:noreply, state}).
                state.waiting.push(from.defer());
                CallOutcome::NoReply
            }
        }
    }
}

/// How many items are stacked.
struct Len;

impl HandleCall<Len> for Stack {
    type Reply = usize;

    async fn handle_call(
        &self,
        _: Len,
        _: Caller<'_, usize>,
        state: &mut State,
        _ctx: &mut Context<Self>,
    ) -> CallOutcome<usize> {
        CallOutcome::Reply(state.items.len())
    }
}

/// Crash the server on purpose.
struct Explode;

impl HandleCall<Explode> for Stack {
    type Reply = ();

    async fn handle_call(
        &self,
        _: Explode,
        _: Caller<'_, ()>,
        _: &mut State,
        _ctx: &mut Context<Self>,
    ) -> CallOutcome<()> {
        panic!("the stack exploded");
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_target(false).init();

    let stack = Server::start_with(Stack, vec![1, 2], StartOptions::new().name("stack")).await?;
    stack.cast(Push(3))?;
    println!("pop -> {}", stack.call(Pop).await?);
    println!("len -> {}", stack.call(Len).await?);

    // Empty the stack, then a `Pop` waits until another task pushes.
    stack.call(Pop).await?;
    stack.call(Pop).await?;
    let pusher = {
        let stack = stack.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            stack.cast(Push(42))
        })
    };
    println!("pop (deferred until a push) -> {}", stack.call(Pop).await?);
    pusher.await??;

    // A panic in a callback is a crash: logged, `terminate` runs, the caller gets the exit.
    match stack.call(Explode).await {
        Err(CallError::Exited(exit)) => println!("explode -> the server exited: {exit}"),
        other => println!("explode -> unexpected: {other:?}"),
    }
    println!("alive after the crash? {}", stack.is_alive());
    println!("a call now -> {:?}", stack.call(Len).await);
    Ok(())
}
