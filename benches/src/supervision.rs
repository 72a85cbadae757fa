//! The actors of the supervision benches, shared by the `supervisor` bench and the
//! `scaling` curves: arbor children and a raw ractor supervisor doing the same work, and
//! the fill-then-stop helpers both time.
//!
//! | piece | arbor | raw ractor |
//! |---|---|---|
//! | a child that announces each incarnation and crashes on demand | [`Phoenix`] | [`RawPhoenix`] |
//! | an idle child | [`Idle`] (a temporary `GenServer`, [`idle_spec`]) | [`RawIdle`] |
//! | the supervisor | `Supervisor` / `DynamicSupervisor` | [`RawSupervisor`] (`spawn_linked`) |
//! | fill with N idle children | [`arbor_runner_with`] | [`raw_runner_with`] |
//! | stop | [`arbor_stop`] | [`raw_stop`] (`stop_children_and_wait`) |

use std::fmt;

use arbor_actor::ractor::{
    self, Actor, ActorCell, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent,
};
use arbor_actor::{
    CallOutcome, Caller, Context, Exit, GenServer, HandleCall, HandleCast, Init, Outcome, Server,
};
use arbor_supervisor::{ChildSpec, DynamicSupervisor, DynamicSupervisorOptions, Restart};
use tokio::sync::mpsc;

// ----- arbor: a child that announces each incarnation --------------------------------------

/// A worker that sends its own handle to the bench when it starts, and crashes on demand.
#[derive(Debug, Clone)]
pub struct Phoenix {
    /// Where each incarnation sends its handle.
    pub born: mpsc::UnboundedSender<Server<Phoenix>>,
}

impl GenServer for Phoenix {
    type Args = ();
    type State = ();
    async fn init(&self, _: (), ctx: &mut Context<Self>) -> Init<()> {
        let _ = self.born.send(ctx.myself().clone());
        Init::Ready(())
    }
}

/// Cast: panic.
#[derive(Debug)]
pub struct Crash;
impl HandleCast<Crash> for Phoenix {
    async fn handle_cast(&self, _: Crash, _: &mut (), _: &mut Context<Self>) -> Outcome {
        panic!("crash");
    }
}

/// Call: answer `()`.
#[derive(Debug)]
pub struct Ping;
impl HandleCall<Ping> for Phoenix {
    type Reply = ();
    async fn handle_call(
        &self,
        _: Ping,
        _: Caller<'_, ()>,
        _: &mut (),
        _: &mut Context<Self>,
    ) -> CallOutcome<()> {
        CallOutcome::Reply(())
    }
}

/// An idle worker for the start/stop scenarios.
#[derive(Debug, Clone)]
pub struct Idle;
impl GenServer for Idle {
    type Args = ();
    type State = ();
    async fn init(&self, _: (), _: &mut Context<Self>) -> Init<()> {
        Init::Ready(())
    }
}

// ----- raw ractor: the same shapes ------------------------------------------------------------

/// The messages of [`RawPhoenix`].
pub enum RawChildMsg {
    /// Panic.
    Crash,
    /// Answer `()`.
    Ping(RpcReplyPort<()>),
}

/// The raw ractor [`Phoenix`]: sends its handle when it starts, crashes on demand.
#[derive(Debug)]
pub struct RawPhoenix {
    /// Where each incarnation sends its handle.
    pub born: mpsc::UnboundedSender<ActorRef<RawChildMsg>>,
}

impl Actor for RawPhoenix {
    type Msg = RawChildMsg;
    type State = ();
    type Arguments = ();
    async fn pre_start(
        &self,
        myself: ActorRef<RawChildMsg>,
        _: (),
    ) -> Result<(), ActorProcessingErr> {
        let _ = self.born.send(myself);
        Ok(())
    }
    async fn handle(
        &self,
        _: ActorRef<RawChildMsg>,
        msg: RawChildMsg,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            RawChildMsg::Crash => panic!("crash"),
            RawChildMsg::Ping(reply) => {
                let _ = reply.send(());
            }
        }
        Ok(())
    }
}

/// The raw ractor [`Idle`].
#[derive(Debug)]
pub struct RawIdle;
impl Actor for RawIdle {
    type Msg = ();
    type State = ();
    type Arguments = ();
    async fn pre_start(&self, _: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
}

/// A raw ractor supervisor: spawns children on request, respawns a `RawPhoenix` that fails.
#[derive(Debug)]
pub struct RawSupervisor {
    /// `Some`: start a [`RawPhoenix`] at once and respawn it when it fails.
    pub born: Option<mpsc::UnboundedSender<ActorRef<RawChildMsg>>>,
}

/// The messages of [`RawSupervisor`].
pub enum RawSupMsg {
    /// Spawn a linked [`RawIdle`] and reply with its cell.
    SpawnIdle(RpcReplyPort<ActorCell>),
}

impl Actor for RawSupervisor {
    type Msg = RawSupMsg;
    type State = ();
    type Arguments = ();
    async fn pre_start(
        &self,
        myself: ActorRef<RawSupMsg>,
        _: (),
    ) -> Result<(), ActorProcessingErr> {
        if let Some(born) = &self.born {
            Actor::spawn_linked(
                None,
                RawPhoenix { born: born.clone() },
                (),
                myself.get_cell(),
            )
            .await?;
        }
        Ok(())
    }
    async fn handle(
        &self,
        myself: ActorRef<RawSupMsg>,
        msg: RawSupMsg,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            RawSupMsg::SpawnIdle(reply) => {
                let (child, _) = Actor::spawn_linked(None, RawIdle, (), myself.get_cell()).await?;
                let _ = reply.send(child.get_cell());
            }
        }
        Ok(())
    }
    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<RawSupMsg>,
        event: SupervisionEvent,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        if let (SupervisionEvent::ActorFailed(..), Some(born)) = (&event, &self.born) {
            Actor::spawn_linked(
                None,
                RawPhoenix { born: born.clone() },
                (),
                myself.get_cell(),
            )
            .await?;
        }
        Ok(())
    }
}

// ----- filling and stopping

/// Starts a `DynamicSupervisor` and `n` idle children, one `start_child` after another.
///
/// # Panics
///
/// When the supervisor or a child does not start.
pub async fn arbor_runner_with(n: usize) -> DynamicSupervisor {
    let runner = DynamicSupervisor::start(DynamicSupervisorOptions::default())
        .await
        .expect("runner starts");
    for _ in 0..n {
        runner.start_child(idle_spec()).await.expect("child starts");
    }
    runner
}

/// A temporary idle `GenServer` child.
pub fn idle_spec() -> ChildSpec {
    ChildSpec::worker("idle", Idle, ()).restart(Restart::Temporary)
}

/// Starts a [`RawSupervisor`] and asks it for `n` linked idle children, one after another.
///
/// # Panics
///
/// When the supervisor or a child does not start.
pub async fn raw_runner_with(n: usize) -> ActorRef<RawSupMsg> {
    let (runner, _) = Actor::spawn(None, RawSupervisor { born: None }, ())
        .await
        .expect("raw runner starts");
    for _ in 0..n {
        ractor::call!(runner, RawSupMsg::SpawnIdle).expect("raw child starts");
    }
    runner
}

/// Stops a `DynamicSupervisor` and every child (each runs `terminate`).
pub async fn arbor_stop(runner: DynamicSupervisor) {
    runner.stop(Exit::shutdown()).await;
}

/// Stops a [`RawSupervisor`]'s children with ractor's `stop_children_and_wait`, then it.
pub async fn raw_stop(runner: ActorRef<RawSupMsg>) {
    runner.stop_children_and_wait(None, None).await;
    let _ = runner.stop_and_wait(None, None).await;
}

impl fmt::Debug for RawChildMsg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RawChildMsg::Crash => "Crash",
            RawChildMsg::Ping(_) => "Ping",
        })
    }
}

impl fmt::Debug for RawSupMsg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SpawnIdle")
    }
}
