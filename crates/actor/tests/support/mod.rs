//! A probe server that reports every callback to the test over a channel, plus a
//! log-capturing subscriber. Each test file uses part of it.
#![allow(dead_code, unreachable_pub)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arbor_actor::{
    CallError, CallOutcome, Caller, Context, Exit, GenServer, HandleCall, HandleCast,
    HandleContinue, HandleInfo, IdleTimeout, Init, Outcome, ReplyTo, Server,
};
use tokio::sync::{mpsc, oneshot};

/// What the probe tells the test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Init,
    Continued(&'static str),
    Cast(u32),
    Info(u32),
    Idle,
    /// A `Slow` call started being handled.
    Busy(u32),
    Replied(bool),
    Exit(String),
    Terminated(Exit),
}

/// How the probe's `init` behaves.
#[derive(Debug)]
pub enum Plan {
    Ready,
    Ignore,
    Stop(Exit),
    Panic(&'static str),
    Sleep(Duration),
    /// Call the server itself from `init` and fail with what the call returned.
    CallSelf,
    /// Ask for a continuation that waits for the gate before reporting.
    ContinueAfter(oneshot::Receiver<()>),
}

pub struct Probe {
    pub events: mpsc::UnboundedSender<Event>,
}

pub struct ProbeState {
    pub deferred: Vec<ReplyTo<u32>>,
    pub gate: Option<oneshot::Receiver<()>>,
    pub panic_in_terminate: bool,
    /// How long `terminate` waits before it reports (so a test can tell whether anything
    /// overtook it).
    pub terminate_delay: Option<Duration>,
}

impl Probe {
    fn report(&self, event: Event) {
        let _ = self.events.send(event);
    }
}

impl GenServer for Probe {
    type Args = Plan;
    type State = ProbeState;

    async fn init(&self, plan: Plan, ctx: &mut Context<Self>) -> Init<ProbeState> {
        self.report(Event::Init);
        let mut state = ProbeState {
            deferred: Vec::new(),
            gate: None,
            panic_in_terminate: false,
            terminate_delay: None,
        };
        match plan {
            Plan::Ready => {}
            Plan::Ignore => return Init::Ignore,
            Plan::Stop(exit) => return Init::Stop(exit),
            Plan::Panic(message) => panic!("{message}"),
            Plan::Sleep(pause) => tokio::time::sleep(pause).await,
            Plan::CallSelf => {
                let result = ctx.myself().call(Ping).await;
                return Init::Stop(Exit::error(format!("{result:?}")));
            }
            Plan::ContinueAfter(gate) => {
                state.gate = Some(gate);
                ctx.continue_with(Gated("from init"));
            }
        }
        Init::Ready(state)
    }

    async fn terminate(&self, reason: &Exit, state: &mut ProbeState, _ctx: &mut Context<Self>) {
        if let Some(delay) = state.terminate_delay {
            tokio::time::sleep(delay).await;
        }
        self.report(Event::Terminated(reason.clone()));
        if state.panic_in_terminate {
            panic!("terminate blew up");
        }
    }

    async fn handle_exit(
        &self,
        _actor: arbor_actor::ractor::ActorCell,
        reason: Exit,
        _state: &mut ProbeState,
        _ctx: &mut Context<Self>,
    ) -> Outcome {
        self.report(Event::Exit(reason.to_string()));
        if reason.is_normal() {
            Outcome::NoReply
        } else {
            Outcome::Stop(Exit::error(format!("linked actor exited: {reason}")))
        }
    }
}

/// Continuation that waits for the state's gate, then reports.
pub struct Gated(pub &'static str);
impl HandleContinue<Gated> for Probe {
    async fn handle_continue(
        &self,
        Gated(tag): Gated,
        state: &mut ProbeState,
        _ctx: &mut Context<Self>,
    ) -> Outcome {
        if let Some(gate) = state.gate.take() {
            let _ = gate.await;
        }
        self.report(Event::Continued(tag));
        Outcome::NoReply
    }
}

/// Cast: report the number.
pub struct Record(pub u32);
impl HandleCast<Record> for Probe {
    async fn handle_cast(
        &self,
        Record(n): Record,
        _: &mut ProbeState,
        _: &mut Context<Self>,
    ) -> Outcome {
        self.report(Event::Cast(n));
        Outcome::NoReply
    }
}

/// Cast: wait for a gate while asking for a continuation, so a test can queue messages
/// behind it.
pub struct ContinueLater(pub oneshot::Receiver<()>);
impl HandleCast<ContinueLater> for Probe {
    async fn handle_cast(
        &self,
        ContinueLater(gate): ContinueLater,
        state: &mut ProbeState,
        ctx: &mut Context<Self>,
    ) -> Outcome {
        state.gate = Some(gate);
        ctx.continue_with(Gated("from cast"));
        Outcome::NoReply
    }
}

/// Info: report the number.
pub struct Note(pub u32);
impl HandleInfo<Note> for Probe {
    async fn handle_info(
        &self,
        Note(n): Note,
        _: &mut ProbeState,
        _: &mut Context<Self>,
    ) -> Outcome {
        self.report(Event::Info(n));
        Outcome::NoReply
    }
}

impl HandleInfo<IdleTimeout> for Probe {
    async fn handle_info(
        &self,
        _: IdleTimeout,
        _: &mut ProbeState,
        _: &mut Context<Self>,
    ) -> Outcome {
        self.report(Event::Idle);
        Outcome::NoReply
    }
}

/// Cast: ask for an idle timeout.
pub struct ArmIdle(pub Duration);
impl HandleCast<ArmIdle> for Probe {
    async fn handle_cast(
        &self,
        ArmIdle(after): ArmIdle,
        _: &mut ProbeState,
        ctx: &mut Context<Self>,
    ) -> Outcome {
        ctx.idle_timeout(after);
        Outcome::NoReply
    }
}

/// Cast: send `Note(n)` to self after a delay.
pub struct NoteLater(pub Duration, pub u32);
impl HandleCast<NoteLater> for Probe {
    async fn handle_cast(
        &self,
        NoteLater(after, n): NoteLater,
        _: &mut ProbeState,
        ctx: &mut Context<Self>,
    ) -> Outcome {
        let _timer = ctx.send_after(after, Note(n));
        Outcome::NoReply
    }
}

/// Cast: stop with this reason.
pub struct StopWith(pub Exit);
impl HandleCast<StopWith> for Probe {
    async fn handle_cast(
        &self,
        StopWith(exit): StopWith,
        _: &mut ProbeState,
        _: &mut Context<Self>,
    ) -> Outcome {
        Outcome::Stop(exit)
    }
}

/// Cast: panic with this message.
pub struct Crash(pub &'static str);
impl HandleCast<Crash> for Probe {
    async fn handle_cast(
        &self,
        Crash(message): Crash,
        _: &mut ProbeState,
        _: &mut Context<Self>,
    ) -> Outcome {
        panic!("{message}");
    }
}

/// Cast: make `terminate` panic.
pub struct PanicInTerminate;
impl HandleCast<PanicInTerminate> for Probe {
    async fn handle_cast(
        &self,
        _: PanicInTerminate,
        state: &mut ProbeState,
        _: &mut Context<Self>,
    ) -> Outcome {
        state.panic_in_terminate = true;
        Outcome::NoReply
    }
}

/// Cast: make `terminate` wait this long before it reports.
pub struct SlowTerminate(pub Duration);
impl HandleCast<SlowTerminate> for Probe {
    async fn handle_cast(
        &self,
        SlowTerminate(delay): SlowTerminate,
        state: &mut ProbeState,
        _: &mut Context<Self>,
    ) -> Outcome {
        state.terminate_delay = Some(delay);
        Outcome::NoReply
    }
}

/// Call: echo the number.
pub struct Echo(pub u32);
impl HandleCall<Echo> for Probe {
    type Reply = u32;
    async fn handle_call(
        &self,
        Echo(n): Echo,
        _: Caller<'_, u32>,
        _: &mut ProbeState,
        _: &mut Context<Self>,
    ) -> CallOutcome<u32> {
        CallOutcome::Reply(n)
    }
}

/// Call: a different reply type.
pub struct Ping;
impl HandleCall<Ping> for Probe {
    type Reply = &'static str;
    async fn handle_call(
        &self,
        _: Ping,
        _: Caller<'_, &'static str>,
        _: &mut ProbeState,
        _: &mut Context<Self>,
    ) -> CallOutcome<&'static str> {
        CallOutcome::Reply("pong")
    }
}

/// Call: answer `value` only after `after`.
pub struct Slow {
    pub after: Duration,
    pub value: u32,
}
impl HandleCall<Slow> for Probe {
    type Reply = u32;
    async fn handle_call(
        &self,
        slow: Slow,
        _: Caller<'_, u32>,
        _: &mut ProbeState,
        _: &mut Context<Self>,
    ) -> CallOutcome<u32> {
        self.report(Event::Busy(slow.value));
        tokio::time::sleep(slow.after).await;
        CallOutcome::Reply(slow.value)
    }
}

/// Call: panic while handling.
pub struct CallCrash(pub &'static str);
impl HandleCall<CallCrash> for Probe {
    type Reply = u32;
    async fn handle_call(
        &self,
        CallCrash(message): CallCrash,
        _: Caller<'_, u32>,
        _: &mut ProbeState,
        _: &mut Context<Self>,
    ) -> CallOutcome<u32> {
        panic!("{message}");
    }
}

/// Call: stop, with or without answering.
pub struct CallStop {
    pub exit: Exit,
    pub reply: Option<u32>,
}
impl HandleCall<CallStop> for Probe {
    type Reply = u32;
    async fn handle_call(
        &self,
        stop: CallStop,
        _: Caller<'_, u32>,
        _: &mut ProbeState,
        _: &mut Context<Self>,
    ) -> CallOutcome<u32> {
        match stop.reply {
            Some(reply) => CallOutcome::StopWithReply(stop.exit, reply),
            None => CallOutcome::Stop(stop.exit),
        }
    }
}

/// Call: calls the server itself and answers with what that call returned.
pub struct CallSelf;
impl HandleCall<CallSelf> for Probe {
    type Reply = Result<&'static str, CallError>;
    async fn handle_call(
        &self,
        _: CallSelf,
        _: Caller<'_, Self::Reply>,
        _: &mut ProbeState,
        ctx: &mut Context<Self>,
    ) -> CallOutcome<Self::Reply> {
        CallOutcome::Reply(ctx.myself().call(Ping).await)
    }
}

/// Call: try to wait for its own stop, and answer with what that returned.
pub struct StopAndWaitSelf;
impl HandleCall<StopAndWaitSelf> for Probe {
    type Reply = Result<(), arbor_actor::StopError>;
    async fn handle_call(
        &self,
        _: StopAndWaitSelf,
        _: Caller<'_, Self::Reply>,
        _: &mut ProbeState,
        ctx: &mut Context<Self>,
    ) -> CallOutcome<Self::Reply> {
        CallOutcome::Reply(
            ctx.myself()
                .stop_and_wait(Exit::Normal, Duration::from_secs(1))
                .await,
        )
    }
}

/// Call: keep the reply handle in the state.
pub struct Defer;
impl HandleCall<Defer> for Probe {
    type Reply = u32;
    async fn handle_call(
        &self,
        _: Defer,
        from: Caller<'_, u32>,
        state: &mut ProbeState,
        _: &mut Context<Self>,
    ) -> CallOutcome<u32> {
        state.deferred.push(from.defer());
        CallOutcome::NoReply
    }
}

/// Call: answer from another task once `release` fires.
pub struct DeferToTask(pub oneshot::Receiver<u32>);
impl HandleCall<DeferToTask> for Probe {
    type Reply = u32;
    async fn handle_call(
        &self,
        DeferToTask(release): DeferToTask,
        from: Caller<'_, u32>,
        _: &mut ProbeState,
        _: &mut Context<Self>,
    ) -> CallOutcome<u32> {
        let reply = from.defer();
        tokio::spawn(async move {
            if let Ok(value) = release.await {
                reply.reply(value);
            }
        });
        CallOutcome::NoReply
    }
}

/// Call: return `NoReply` without taking the handle.
pub struct Forget;
impl HandleCall<Forget> for Probe {
    type Reply = u32;
    async fn handle_call(
        &self,
        _: Forget,
        _: Caller<'_, u32>,
        _: &mut ProbeState,
        _: &mut Context<Self>,
    ) -> CallOutcome<u32> {
        CallOutcome::NoReply
    }
}

/// Cast: answer every deferred call with the number, reporting whether each caller
/// still waited.
pub struct Release(pub u32);
impl HandleCast<Release> for Probe {
    async fn handle_cast(
        &self,
        Release(n): Release,
        state: &mut ProbeState,
        _: &mut Context<Self>,
    ) -> Outcome {
        for reply in state.deferred.drain(..) {
            let delivered = reply.reply(n);
            self.report(Event::Replied(delivered));
        }
        Outcome::NoReply
    }
}

/// Cast: drop every deferred reply handle unanswered.
pub struct DropDeferred;
impl HandleCast<DropDeferred> for Probe {
    async fn handle_cast(
        &self,
        _: DropDeferred,
        state: &mut ProbeState,
        _: &mut Context<Self>,
    ) -> Outcome {
        state.deferred.clear();
        Outcome::NoReply
    }
}

/// Starts a ready probe and returns it with its event stream.
pub async fn probe() -> (Server<Probe>, mpsc::UnboundedReceiver<Event>) {
    let (events, rx) = mpsc::unbounded_channel();
    let server = Server::start(Probe { events }, Plan::Ready)
        .await
        .expect("probe starts");
    (server, rx)
}

/// Waits for the server to handle everything sent before (a call is a barrier).
pub async fn flush(server: &Server<Probe>) {
    assert_eq!(server.call(Ping).await, Ok("pong"));
}

/// Everything reported so far, without waiting.
pub fn drain(rx: &mut mpsc::UnboundedReceiver<Event>) -> Vec<Event> {
    let mut events = Vec::new();
    while let Ok(event) = rx.try_recv() {
        events.push(event);
    }
    events
}

/// A subscriber that writes log lines into a buffer the test can read.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Installs the capture for this thread (tests run on a current-thread runtime).
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }
}

impl Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
