//! The GenServer behaviour: one trait for the lifecycle, one small trait per message kind.

use std::future::Future;

use ractor::ActorCell;

use crate::{CallOutcome, Caller, Context, Exit, Init, Outcome};

/// A server's lifecycle: how it starts (`init`), and what it does when it stops
/// (`terminate`) or when an actor linked to it exits (`handle_exit`).
///
/// Only `init` is required. The messages a server understands are declared one type at a
/// time with [`HandleCall`], [`HandleCast`], [`HandleInfo`] and [`HandleContinue`], so a
/// caller gets the reply type of the request it sent.
///
/// The implementing type is the server's *configuration* (shared, read-only); the mutable
/// data lives in [`GenServer::State`], returned by `init`.
///
/// # Examples
///
/// ```
/// use arbor_actor::{CallOutcome, Caller, Context, GenServer, HandleCall, HandleCast, Init, Outcome, Server};
///
/// struct Counter;
///
/// impl GenServer for Counter {
///     type Args = u64;
///     type State = u64;
///     async fn init(&self, start: u64, _ctx: &mut Context<Self>) -> Init<u64> {
///         Init::Ready(start)
///     }
/// }
///
/// struct Add(u64);
/// impl HandleCast<Add> for Counter {
///     async fn handle_cast(&self, Add(n): Add, count: &mut u64, _ctx: &mut Context<Self>) -> Outcome {
///         *count += n;
///         Outcome::NoReply
///     }
/// }
///
/// struct Get;
/// impl HandleCall<Get> for Counter {
///     type Reply = u64;
///     async fn handle_call(&self, _: Get, _from: Caller<'_, u64>, count: &mut u64, _ctx: &mut Context<Self>) -> CallOutcome<u64> {
///         CallOutcome::Reply(*count)
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let counter = Server::start(Counter, 0).await?;
/// counter.cast(Add(5))?;
/// let n: u64 = counter.call(Get).await?; // the reply type follows the request
/// assert_eq!(n, 5);
/// # Ok(())
/// # }
/// ```
pub trait GenServer: Sized + Send + Sync + 'static {
    /// What `init` is started with.
    type Args: Send + 'static;
    /// The server's mutable state, owned by the server's task.
    type State: Send + 'static;

    /// Builds the state. [`Server::start`](crate::Server::start) returns once this has run.
    ///
    /// Return [`Init::Ready`] to run, [`Init::Ignore`] to not start (OTP's `:ignore`) or
    /// [`Init::Stop`] to fail the start. Call [`Context::continue_with`] first to have
    /// `handle_continue` run before any message (OTP's `{:ok, state, {:continue, term}}`).
    fn init(
        &self,
        args: Self::Args,
        ctx: &mut Context<Self>,
    ) -> impl Future<Output = Init<Self::State>> + Send;

    /// Runs when the server stops through a callback's [`Outcome::Stop`], a panic in a
    /// callback, [`Server::stop`](crate::Server::stop), or its supervisor's shutdown. It
    /// does not run after [`Exit::Killed`] or when `init` fails. The default does nothing.
    fn terminate(
        &self,
        reason: &Exit,
        state: &mut Self::State,
        ctx: &mut Context<Self>,
    ) -> impl Future<Output = ()> + Send {
        let _ = (reason, state, ctx);
        async {}
    }

    /// Runs when an actor linked under this server (started with
    /// [`Server::start_link`](crate::Server::start_link) and this server's cell) exits.
    ///
    /// The default behaves like an OTP process that does not trap exits: a linked
    /// actor's `Normal` exit is ignored, any other reason stops this server with that
    /// same reason.
    fn handle_exit(
        &self,
        actor: ActorCell,
        reason: Exit,
        state: &mut Self::State,
        ctx: &mut Context<Self>,
    ) -> impl Future<Output = Outcome> + Send {
        let _ = (actor, state, ctx);
        async move {
            match reason {
                Exit::Normal => Outcome::NoReply,
                other => Outcome::Stop(other),
            }
        }
    }
}

/// A request `M` that this server answers with a [`HandleCall::Reply`]: OTP's `handle_call`.
///
/// The caller of [`Server::call`](crate::Server::call) gets `Result<Self::Reply, CallError>`.
/// Return [`CallOutcome::Reply`] to answer now, or take the reply handle with
/// [`Caller::defer`] and return [`CallOutcome::NoReply`] to answer later (OTP's
/// `{:noreply, state}` + `GenServer.reply/2`).
pub trait HandleCall<M: Send + 'static>: GenServer {
    /// What the caller receives.
    type Reply: Send + 'static;

    /// Handles one request.
    fn handle_call(
        &self,
        request: M,
        from: Caller<'_, Self::Reply>,
        state: &mut Self::State,
        ctx: &mut Context<Self>,
    ) -> impl Future<Output = CallOutcome<Self::Reply>> + Send;
}

/// A request `M` answered at once from the state: the short form of [`HandleCall`] for the
/// common case, OTP's `{:reply, reply, state}` and nothing else.
///
/// Implementing `Reply<M>` implements `HandleCall<M>`: no reply handle, no context, no
/// [`CallOutcome`] to wrap the answer in. Reach for [`HandleCall`] when the handler must
/// defer its answer, stop the server, or use the [`Context`].
///
/// ```
/// use arbor_actor::{Context, GenServer, Init, Reply, Server};
///
/// struct Counter;
/// struct Get;
///
/// impl GenServer for Counter {
///     type Args = u64;
///     type State = u64;
///     async fn init(&self, start: u64, _ctx: &mut Context<Self>) -> Init<u64> {
///         Init::Ready(start)
///     }
/// }
///
/// impl Reply<Get> for Counter {
///     type Reply = u64;
///     async fn reply(&self, _: Get, count: &mut u64) -> u64 {
///         *count
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let counter = Server::start(Counter, 7).await?;
/// assert_eq!(counter.call(Get).await?, 7);
/// # Ok(())
/// # }
/// ```
pub trait Reply<M: Send + 'static>: GenServer {
    /// What the caller receives.
    type Reply: Send + 'static;

    /// Answers one request.
    fn reply(
        &self,
        request: M,
        state: &mut Self::State,
    ) -> impl Future<Output = Self::Reply> + Send;
}

impl<G, M> HandleCall<M> for G
where
    G: Reply<M>,
    M: Send + 'static,
{
    type Reply = <G as Reply<M>>::Reply;

    async fn handle_call(
        &self,
        request: M,
        _from: Caller<'_, Self::Reply>,
        state: &mut Self::State,
        _ctx: &mut Context<Self>,
    ) -> CallOutcome<Self::Reply> {
        CallOutcome::Reply(self.reply(request, state).await)
    }
}

/// A fire-and-forget message `M`: OTP's `handle_cast`.
pub trait HandleCast<M: Send + 'static>: GenServer {
    /// Handles one cast.
    fn handle_cast(
        &self,
        message: M,
        state: &mut Self::State,
        ctx: &mut Context<Self>,
    ) -> impl Future<Output = Outcome> + Send;
}

/// A plain message `M` (sent with [`Server::send`](crate::Server::send), a timer, or the
/// idle timeout): OTP's `handle_info`.
pub trait HandleInfo<M: Send + 'static>: GenServer {
    /// Handles one message.
    fn handle_info(
        &self,
        message: M,
        state: &mut Self::State,
        ctx: &mut Context<Self>,
    ) -> impl Future<Output = Outcome> + Send;
}

/// Work `M` the server asked to do before its next message: OTP's `handle_continue`.
///
/// Asked for with [`Context::continue_with`] from `init` or any callback; it runs right
/// after that callback, before any message already in the mailbox.
pub trait HandleContinue<M: Send + 'static>: GenServer {
    /// Handles one continuation.
    fn handle_continue(
        &self,
        work: M,
        state: &mut Self::State,
        ctx: &mut Context<Self>,
    ) -> impl Future<Output = Outcome> + Send;
}
