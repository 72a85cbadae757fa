//! The record of one server process that its handles, its pids and its runtime share:
//! its name and behaviour, its stop hooks, the exit decided for it, and its cell.

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use ractor::{ActorCell, ActorId, ActorStatus};
use tokio::runtime::Handle;

use crate::pid::{OnStop, StopHookId};
use crate::telemetry::ProcessStats;
use crate::Exit;

/// Work to run once when a server's stop is decided (see [`Pid::on_stop`]).
pub(crate) type StopHook = Box<dyn FnOnce(&Exit) + Send>;

/// A server's stop hooks, each under the id it was registered with, so that a watcher
/// that loses interest can take its hook back.
#[derive(Default)]
pub(crate) struct StopHooks {
    hooks: Vec<(StopHookId, StopHook)>,
    next: u64,
}

/// What every handle of one server shares with the server itself.
pub(crate) struct Record {
    name: Option<Arc<str>>,
    /// The behaviour's type, so an untyped [`Pid`] can give back a typed handle.
    behaviour: TypeId,
    /// Set once the stop is decided, before any caller can observe it.
    stopping: AtomicBool,
    /// Run when `stopping` is set, in the order registered; `None` once they have run.
    stop_hooks: Mutex<Option<StopHooks>>,
    /// Why the server is stopping, decided as soon as it is known.
    exit: OnceLock<Exit>,
    /// Set once `terminate` has run to its end: a server that stopped without it was killed.
    terminated: AtomicBool,
    /// The server's own cell, known once its actor exists.
    cell: OnceLock<ActorCell>,
    runtime: Handle,
    /// Delivers an exit signal to this server (typed by its behaviour; see [`Pid::exit_signal`]).
    exit_signal: ExitSignalFn,
    /// What the server reports of itself: counters, its span, its lifecycle metrics.
    stats: ProcessStats,
    /// A protocol server's `Post<G>`, erased, for a [`Pid`] to rebuild its handle; `None`
    /// for a server whose actor takes envelopes as they are.
    protocol_post: Option<Box<dyn Any + Send + Sync>>,
}

/// Queues an exit signal `(from, reason)` for the server whose cell is the first argument.
pub(crate) type ExitSignalFn = fn(&ActorCell, ActorCell, Exit) -> bool;

impl Record {
    pub(crate) fn new(
        name: Option<Arc<str>>,
        behaviour: (TypeId, &'static str),
        runtime: Handle,
        exit_signal: ExitSignalFn,
        protocol_post: Option<Box<dyn Any + Send + Sync>>,
    ) -> Self {
        Record {
            stats: ProcessStats::new(name.clone(), behaviour.1),
            exit_signal,
            protocol_post,
            name,
            behaviour: behaviour.0,
            stopping: AtomicBool::new(false),
            stop_hooks: Mutex::new(Some(StopHooks::default())),
            exit: OnceLock::new(),
            terminated: AtomicBool::new(false),
            cell: OnceLock::new(),
            runtime,
        }
    }

    /// Records why the server is stopping; the first reason decided wins. Stop hooks run
    /// first, so nothing that watches the server can see the exit before they have.
    pub(crate) fn decide_exit(&self, exit: &Exit) {
        self.begin_stop(exit);
        let _ = self.exit.get_or_init(|| exit.clone());
    }

    /// Marks the server as stopping and runs its stop hooks with `exit`, once.
    pub(crate) fn begin_stop(&self, exit: &Exit) {
        if self.stopping.swap(true, Ordering::AcqRel) {
            return;
        }
        self.stats.stopped(exit);
        let hooks = match self.stop_hooks.lock() {
            Ok(mut hooks) => hooks.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        for (_, hook) in hooks.into_iter().flat_map(|hooks| hooks.hooks) {
            hook(exit);
        }
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    pub(crate) fn on_stop(&self, hook: StopHook) -> OnStop {
        let mut hooks = self.lock_hooks();
        match hooks.as_mut() {
            Some(hooks) => {
                let id = StopHookId(hooks.next);
                hooks.next += 1;
                hooks.hooks.push((id, hook));
                OnStop::Registered(id)
            }
            None => OnStop::AlreadyStopping,
        }
    }

    /// Takes hook `id` back without running it; `false` when it is not waiting (it ran,
    /// or was taken back before).
    pub(crate) fn cancel_stop_hook(&self, id: StopHookId) -> bool {
        let mut hooks = self.lock_hooks();
        let Some(hooks) = hooks.as_mut() else {
            return false;
        };
        match hooks.hooks.iter().position(|(held, _)| *held == id) {
            Some(at) => {
                // Dropped outside the lock would be nicer, but a hook is a small closure.
                drop(hooks.hooks.remove(at));
                true
            }
            None => false,
        }
    }

    /// How many stop hooks wait.
    pub(crate) fn stop_hook_count(&self) -> usize {
        self.lock_hooks()
            .as_ref()
            .map_or(0, |hooks| hooks.hooks.len())
    }

    fn lock_hooks(&self) -> std::sync::MutexGuard<'_, Option<StopHooks>> {
        match self.stop_hooks.lock() {
            Ok(hooks) => hooks,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    pub(crate) fn stats(&self) -> &ProcessStats {
        &self.stats
    }

    pub(crate) fn behaviour(&self) -> TypeId {
        self.behaviour
    }

    /// The erased `Post<G>` of a protocol server (see the field).
    pub(crate) fn protocol_post(&self) -> Option<&(dyn Any + Send + Sync)> {
        self.protocol_post.as_deref()
    }

    pub(crate) fn exit(&self) -> Option<&Exit> {
        self.exit.get()
    }

    pub(crate) fn set_cell(&self, cell: ActorCell) {
        let _ = self.cell.set(cell);
    }

    pub(crate) fn id(&self) -> Option<ActorId> {
        self.cell.get().map(ActorCell::get_id)
    }

    /// Whether the server is gone: its `terminate` finished, or its actor stopped.
    pub(crate) fn has_stopped(&self) -> bool {
        self.terminated.load(Ordering::Acquire)
            || self
                .cell
                .get()
                .is_none_or(|cell| cell.get_status() == ActorStatus::Stopped)
    }

    pub(crate) fn mark_terminated(&self) {
        self.terminated.store(true, Ordering::Release);
    }

    /// The exit of a server known to have stopped.
    pub(crate) fn final_exit(&self) -> Exit {
        match self.exit.get() {
            Some(exit) if self.terminated.load(Ordering::Acquire) => exit.clone(),
            _ => Exit::Killed,
        }
    }

    pub(crate) fn runtime(&self) -> &Handle {
        &self.runtime
    }

    /// Queues an exit signal for this server; `false` when it is not running.
    pub(crate) fn send_exit_signal(&self, from: ActorCell, reason: Exit) -> bool {
        match self.cell.get() {
            Some(cell) if !self.is_stopping() => (self.exit_signal)(cell, from, reason),
            _ => false,
        }
    }
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("name", &self.name)
            .field("exit", &self.exit.get())
            .field("stopping", &self.is_stopping())
            .finish_non_exhaustive()
    }
}
