//! A server's own protocol: one message type it handles directly, beside its `Handle*`
//! messages, without the type erasure those go through.
//!
//! Every call, cast and info travels erased (see `envelope`), which costs a box for the
//! callback's future and, for a message over two words, one for the message. A server
//! whose traffic is dominated by one message type of its own (a GenStage's events and
//! demand) declares that type as its [`Protocol`]: the actor under it then receives
//! [`Mail`], either an envelope or a protocol message, and runs the latter's handler with
//! no box at all. Both kinds share the one mailbox, so their order is the order sent.

use std::future::Future;

use ractor::{ActorCell, MessagingErr};

use crate::{Context, Envelope, Exit, GenServer, Outcome};

/// A server's own message type, handled without erasure: sent with
/// [`Server::send_protocol`](crate::Server::send_protocol) to a server started with
/// [`Server::start_protocol_with`](crate::Server::start_protocol_with).
///
/// It adds to the [`HandleCall`](crate::HandleCall) family, it does not replace it: calls,
/// casts and infos reach the server as before, and keep their order with its protocol
/// messages. Worth it for a message type that carries most of a server's traffic: the
/// server's other messages are handled behind one more box, so that they do not size the
/// future of every protocol message.
///
/// # Examples
///
/// ```
/// use arbor_actor::{Context, GenServer, Init, Outcome, Protocol, Reply, Server, StartOptions};
///
/// struct Tally;
/// impl GenServer for Tally {
///     type Args = ();
///     type State = u64;
///     async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<u64> {
///         Init::Ready(0)
///     }
/// }
///
/// enum Count {
///     Add(u64),
///     Reset,
/// }
/// impl Protocol for Tally {
///     type Message = Count;
///     async fn handle_protocol(&self, message: Count, total: &mut u64, _ctx: &mut Context<Self>) -> Outcome {
///         match message {
///             Count::Add(n) => *total += n,
///             Count::Reset => *total = 0,
///         }
///         Outcome::NoReply
///     }
/// }
///
/// struct Total;
/// impl Reply<Total> for Tally {
///     type Reply = u64;
///     async fn reply(&self, _: Total, total: &mut u64) -> u64 {
///         *total
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let tally = Server::start_protocol_with(Tally, (), StartOptions::new()).await?;
/// tally.send_protocol(Count::Add(2)).map_err(|_| "not running")?;
/// tally.send_protocol(Count::Reset).map_err(|_| "not running")?;
/// tally.send_protocol(Count::Add(3)).map_err(|_| "not running")?;
/// assert_eq!(tally.call(Total).await?, 3, "the call comes after the three messages");
/// # Ok(())
/// # }
/// ```
pub trait Protocol: GenServer {
    /// The protocol's message.
    type Message: Send + 'static;

    /// Handles one protocol message.
    fn handle_protocol(
        &self,
        message: Self::Message,
        state: &mut Self::State,
        ctx: &mut Context<Self>,
    ) -> impl Future<Output = Outcome> + Send;
}

/// Where a protocol server's messages go: to [`Protocol::handle_protocol`], unless the
/// server was started with a handler of its own
/// ([`Server::start_protocol_by`](crate::Server::start_protocol_by)).
///
/// The handler is part of the actor's type, so it is called statically, with nothing
/// boxed: a server whose protocol depends on how it was built (a stage's kind) gets a
/// handler per variant, while its handles keep one type.
///
/// # Examples
///
/// ```
/// use arbor_actor::{
///     CallOutcome, Caller, Context, GenServer, HandleCall, Init, Outcome, Protocol,
///     ProtocolHandler, Server, StartOptions,
/// };
///
/// /// Adds up the numbers it is sent.
/// struct Sum;
/// impl GenServer for Sum {
///     type Args = ();
///     type State = u64;
///     async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<u64> {
///         Init::Ready(0)
///     }
/// }
/// impl Protocol for Sum {
///     type Message = u64;
///     async fn handle_protocol(&self, n: u64, total: &mut u64, _ctx: &mut Context<Self>) -> Outcome {
///         *total += n;
///         Outcome::NoReply
///     }
/// }
///
/// /// The same server, counting each number twice.
/// struct Twice;
/// impl ProtocolHandler<Sum> for Twice {
///     async fn handle_protocol(_: &Sum, n: u64, total: &mut u64, _: &mut Context<Sum>) -> Outcome {
///         *total += 2 * n;
///         Outcome::NoReply
///     }
/// }
///
/// struct Total;
/// impl HandleCall<Total> for Sum {
///     type Reply = u64;
///     async fn handle_call(&self, _: Total, _: Caller<'_, u64>, total: &mut u64, _: &mut Context<Self>) -> CallOutcome<u64> {
///         CallOutcome::Reply(*total)
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sum: Server<Sum> = Server::start_protocol_by::<Twice>(Sum, (), StartOptions::new()).await?;
/// sum.send_protocol(3).map_err(|_| "not running")?;
/// assert_eq!(sum.call(Total).await?, 6);
/// # Ok(())
/// # }
/// ```
pub trait ProtocolHandler<G: Protocol>: Send + Sync + 'static {
    /// Handles one protocol message of `server`.
    fn handle_protocol(
        server: &G,
        message: G::Message,
        state: &mut G::State,
        ctx: &mut Context<G>,
    ) -> impl Future<Output = Outcome> + Send;
}

/// The default [`ProtocolHandler`]: the server's own [`Protocol::handle_protocol`].
#[derive(Debug, Clone, Copy, Default)]
pub struct OwnProtocol;

impl<G: Protocol> ProtocolHandler<G> for OwnProtocol {
    fn handle_protocol(
        server: &G,
        message: G::Message,
        state: &mut G::State,
        ctx: &mut Context<G>,
    ) -> impl Future<Output = Outcome> + Send {
        server.handle_protocol(message, state, ctx)
    }
}

/// What the actor under a [`Protocol`] server receives.
pub(crate) enum Mail<G: Protocol> {
    Envelope(Envelope<G>),
    Protocol(G::Message),
}

/// How a handle gives an envelope to its server's actor, whose message type depends on
/// how the server was started. On failure the envelope comes back when ractor returned it.
pub(crate) type Post<G> = fn(&ActorCell, Envelope<G>) -> Result<(), Option<Envelope<G>>>;

/// [`Post`] for a server started without a protocol: the envelope is the message.
pub(crate) fn post_envelope<G: GenServer>(
    actor: &ActorCell,
    envelope: Envelope<G>,
) -> Result<(), Option<Envelope<G>>> {
    actor.send_message(envelope).map_err(|error| match error {
        MessagingErr::SendErr(envelope) => Some(envelope),
        MessagingErr::ChannelClosed | MessagingErr::InvalidActorType => None,
    })
}

/// [`Post`] for a [`Protocol`] server: the envelope travels as its mail.
pub(crate) fn post_mail<G: Protocol>(
    actor: &ActorCell,
    envelope: Envelope<G>,
) -> Result<(), Option<Envelope<G>>> {
    actor
        .send_message(Mail::<G>::Envelope(envelope))
        .map_err(|error| match error {
            MessagingErr::SendErr(Mail::Envelope(envelope)) => Some(envelope),
            MessagingErr::SendErr(Mail::Protocol(_))
            | MessagingErr::ChannelClosed
            | MessagingErr::InvalidActorType => None,
        })
}

/// [`send_exit_signal`](crate::envelope::send_exit_signal) for a [`Protocol`] server.
pub(crate) fn send_exit_signal<G: Protocol>(
    server: &ActorCell,
    from: ActorCell,
    exit: Exit,
) -> bool {
    post_mail(server, crate::envelope::exit_signal::<G>(from, exit)).is_ok()
}
