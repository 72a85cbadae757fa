//! A worker that reports its lifecycle to the test, and helpers to read the reports.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arbor_actor::{
    CallOutcome, Caller, Context, Exit, GenServer, HandleCall, HandleCast, Init, Outcome, Server,
};
use arbor_supervisor::{ChildSpec, ChildState, Restart, Supervisor};
use tokio::sync::mpsc;

/// What workers tell the test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Started(&'static str),
    Stopped(&'static str, Exit),
    /// `init` refused to start (the `fail_inits` knob).
    Refused(&'static str),
}

/// Knobs a test turns on a worker, shared by all its incarnations.
#[derive(Debug, Default)]
pub struct Knobs {
    /// The next `init` fails.
    pub fail_init: AtomicBool,
    /// `terminate` never returns (to exercise shutdown timeouts).
    pub hang_in_terminate: AtomicBool,
    /// `terminate` takes this long (paused time).
    pub slow_terminate: AtomicBool,
    /// The next this-many `init`s fail, each reporting `Event::Refused`.
    pub fail_inits: AtomicUsize,
    /// Every `init` returns `Ignore`.
    pub ignore_init: AtomicBool,
}

#[derive(Clone)]
pub struct Worker {
    pub id: &'static str,
    pub events: mpsc::UnboundedSender<Event>,
    pub knobs: Arc<Knobs>,
}

impl GenServer for Worker {
    type Args = ();
    type State = ();

    async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> {
        if self.knobs.fail_init.swap(false, Ordering::SeqCst) {
            return Init::Stop(Exit::error("init refused"));
        }
        let refuse = self
            .knobs
            .fail_inits
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if refuse {
            let _ = self.events.send(Event::Refused(self.id));
            return Init::Stop(Exit::error("init refused"));
        }
        if self.knobs.ignore_init.load(Ordering::SeqCst) {
            return Init::Ignore;
        }
        let _ = self.events.send(Event::Started(self.id));
        Init::Ready(())
    }

    async fn terminate(&self, reason: &Exit, _: &mut (), _ctx: &mut Context<Self>) {
        let _ = self.events.send(Event::Stopped(self.id, reason.clone()));
        if self.knobs.hang_in_terminate.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        if self.knobs.slow_terminate.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
    }
}

/// Cast: panic.
pub struct Crash;
impl HandleCast<Crash> for Worker {
    async fn handle_cast(&self, _: Crash, _: &mut (), _: &mut Context<Self>) -> Outcome {
        panic!("{} crashed", self.id);
    }
}

/// Cast: stop with this reason.
pub struct StopWith(pub Exit);
impl HandleCast<StopWith> for Worker {
    async fn handle_cast(
        &self,
        StopWith(exit): StopWith,
        _: &mut (),
        _: &mut Context<Self>,
    ) -> Outcome {
        Outcome::Stop(exit)
    }
}

/// Call: who are you.
pub struct Name;
impl HandleCall<Name> for Worker {
    type Reply = &'static str;
    async fn handle_call(
        &self,
        _: Name,
        _: Caller<'_, &'static str>,
        _: &mut (),
        _: &mut Context<Self>,
    ) -> CallOutcome<&'static str> {
        CallOutcome::Reply(self.id)
    }
}

/// Builds workers that all report to one channel.
pub struct Lab {
    pub events: mpsc::UnboundedReceiver<Event>,
    tx: mpsc::UnboundedSender<Event>,
    knobs: HashMap<&'static str, Arc<Knobs>>,
}

impl Lab {
    pub fn new() -> Self {
        let (tx, events) = mpsc::unbounded_channel();
        Lab {
            events,
            tx,
            knobs: HashMap::new(),
        }
    }

    pub fn worker(&mut self, id: &'static str) -> Worker {
        let knobs = Arc::clone(self.knobs.entry(id).or_default());
        Worker {
            id,
            events: self.tx.clone(),
            knobs,
        }
    }

    pub fn spec(&mut self, id: &'static str) -> ChildSpec {
        ChildSpec::worker(id, self.worker(id), ())
    }

    pub fn knobs(&mut self, id: &'static str) -> Arc<Knobs> {
        Arc::clone(self.knobs.entry(id).or_default())
    }

    /// The next `n` events, waiting for them.
    pub async fn next(&mut self, n: usize) -> Vec<Event> {
        let mut events = Vec::with_capacity(n);
        for _ in 0..n {
            events.push(self.events.recv().await.expect("workers alive"));
        }
        events
    }

    /// Everything reported so far, without waiting.
    pub fn drain(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        while let Ok(event) = self.events.try_recv() {
            events.push(event);
        }
        events
    }
}

pub fn started(ids: &[&'static str]) -> Vec<Event> {
    ids.iter().map(|id| Event::Started(id)).collect()
}

pub fn stopped(ids: &[&'static str], exit: Exit) -> Vec<Event> {
    ids.iter()
        .map(|id| Event::Stopped(id, exit.clone()))
        .collect()
}

/// The running server of child `id`.
pub async fn child(supervisor: &Supervisor, id: &str) -> Server<Worker> {
    let children = supervisor.which_children().await.unwrap();
    let info = children
        .iter()
        .find(|info| info.id == id)
        .expect("child present");
    match &info.state {
        ChildState::Running(child) => child.server::<Worker>().expect("a Worker"),
        other => panic!("child {id} is not running: {other:?}"),
    }
}

/// The state of child `id`, or `None` when its spec is gone.
pub async fn state_of(supervisor: &Supervisor, id: &str) -> Option<ChildState> {
    let children = supervisor.which_children().await.unwrap();
    children
        .into_iter()
        .find(|info| info.id == id)
        .map(|info| info.state)
}

pub fn transient(spec: ChildSpec) -> ChildSpec {
    spec.restart(Restart::Transient)
}

pub fn panic_of(id: &str) -> Exit {
    Exit::Panic(format!("{id} crashed"))
}
