//! The raw baselines of the `stage` bench: demand-driven pipelines written by hand, which
//! move the same events in the same batches as an arbor GenStage pipeline, with nothing
//! of arbor in them.
//!
//! | piece | protocol core | raw tokio (tasks + unbounded mpsc) | raw ractor (actors, `crate::raw_ractor`) |
//! |---|---|---|---|
//! | producer | [`Router`] (by [`Route`]) | [`source`] | `RawSource` |
//! | producer-consumer | [`MapCore`] | [`map_stage`] | `RawMap` |
//! | consumer | [`Credit`] | [`sink`] | `RawSink` |
//!
//! The protocol is gen_stage's, reduced to its core ("credit"): a consumer asks its
//! producer for `max_demand` events, handles what arrives in batches of at most
//! `max_demand - min_demand`, and after each batch, once what it is still owed has fallen
//! to `min_demand` or below, asks for enough to be owed `max_demand` again ([`Credit`],
//! the same rule as `arbor_stage::DemandCounter`). A producer answers an ask of `n` by
//! generating `n` consecutive `u64`s into one `Vec` and sending it (gen_stage's
//! `handle_demand` emitting `n` events). With the defaults (1000 / 500) this is the
//! "hand-written demand pipeline" of `shared/anchors/FIGURES.md`: batches of 500, one ask
//! per 500.
//!
//! Every producer starts closed: it holds the asks it receives until it is told to go,
//! as an arbor producer started in `DemandMode::Accumulate` does. The bench builds a
//! pipeline, lets every consumer subscribe and ask, and only then starts the clock and
//! opens the producer, so the measured part is moving the events, not starting tasks.
//!
//! Consumers report to a shared [`Tally`]: how many events arrived and their sum, so the
//! bench knows when a run is over and can check that no event was lost or duplicated.

use std::collections::VecDeque;
use std::fmt;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

// ---------------------------------------------------------------------------------------
// shared by every leg
// ---------------------------------------------------------------------------------------

/// Where every consumer of one run reports what it handled: a countdown to the end of the
/// run and a checksum of the events.
///
/// The consumer that handles the last expected event fires the run's completion signal,
/// so the clock stops when the last event has been handled, not when the stages have
/// stopped. Two atomic adds per batch: the same cost in every leg.
pub struct Tally {
    remaining: AtomicU64,
    sum: AtomicU64,
    done: Mutex<Option<oneshot::Sender<()>>>,
}

impl Tally {
    /// A tally expecting `events` events in all; the receiver fires when they have all
    /// been handled.
    pub fn new(events: u64) -> (Arc<Tally>, oneshot::Receiver<()>) {
        let (done, finished) = oneshot::channel();
        let tally = Tally {
            remaining: AtomicU64::new(events),
            sum: AtomicU64::new(0),
            done: Mutex::new(Some(done)),
        };
        (Arc::new(tally), finished)
    }

    /// A consumer handled `count` events whose sum is `sum`.
    pub fn add(&self, count: u64, sum: u64) {
        self.sum.fetch_add(sum, Ordering::Relaxed);
        if self.remaining.fetch_sub(count, Ordering::AcqRel) == count {
            let done = self.done.lock().expect("tally lock").take();
            if let Some(done) = done {
                // The bench may have given up waiting; nothing to tell then.
                let _ = done.send(());
            }
        }
    }

    /// Events still expected.
    pub fn remaining(&self) -> u64 {
        self.remaining.load(Ordering::Acquire)
    }

    /// The sum of every event handled so far (wrapping).
    pub fn sum(&self) -> u64 {
        self.sum.load(Ordering::Acquire)
    }
}

impl fmt::Debug for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tally")
            .field("remaining", &self.remaining())
            .field("sum", &self.sum())
            .finish_non_exhaustive()
    }
}

/// The sum of a batch (wrapping): the work every consumer does per event.
pub fn batch_sum(events: &[u64]) -> u64 {
    events
        .iter()
        .fold(0u64, |sum, &event| sum.wrapping_add(event))
}

/// The sum of `0..events` (wrapping): what a [`Tally`] holds once one consumer has seen
/// every event of a producer of `events` events.
pub fn sum_below(events: u64) -> u64 {
    // n (n - 1) / 2, in u128 so the product cannot overflow; truncated as a wrapping
    // sum would be.
    let n = u128::from(events);
    (n * n.saturating_sub(1) / 2) as u64
}

/// The per-event work of the producer-consumer scenario: both the arbor and the raw
/// producer-consumer apply it.
pub fn step(event: u64) -> u64 {
    event.wrapping_mul(2)
}

/// A consumer's demand on one subscription: gen_stage's rule, as `arbor_stage`'s
/// `DemandCounter` applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credit {
    max: usize,
    min: usize,
    /// Events the producer still owes, counting every ask sent.
    pending: usize,
}

impl Credit {
    /// gen_stage's defaults: max 1000, min 500.
    pub const DEFAULT: Credit = Credit::new(1000, 500);

    /// A subscription asking `max` and re-asking when owed `min` or fewer.
    ///
    /// # Panics
    ///
    /// When `min >= max` (the bench's own constants).
    pub const fn new(max: usize, min: usize) -> Credit {
        assert!(min < max, "min_demand must be below max_demand");
        Credit {
            max,
            min,
            pending: max,
        }
    }

    /// The ask made when subscribing.
    pub fn initial(&self) -> usize {
        self.max
    }

    /// The largest batch handed to the consumer's code at once.
    pub fn batch(&self) -> usize {
        self.max - self.min
    }

    /// `handled` events were handled; returns what to ask for now (0: nothing yet).
    pub fn consumed(&mut self, handled: usize) -> usize {
        let left = self.pending - handled;
        if left <= self.min {
            self.pending = self.max;
            self.max - left
        } else {
            self.pending = left;
            0
        }
    }
}

// ---------------------------------------------------------------------------------------
// raw tokio: tasks and unbounded channels
// ---------------------------------------------------------------------------------------

/// An ask travelling up the credit channel: consumer `from` wants `demand` more events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask {
    /// The consumer's index among the producer's outputs.
    pub from: usize,
    /// How many more events it asks for.
    pub demand: usize,
}

/// How a [`source`] with several consumers shares its events, after the three
/// dispatchers of `arbor_stage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Each ask is answered with a batch for the consumer that asked
    /// (`DemandDispatcher`).
    Demand,
    /// Events go to every consumer, as far as every consumer has credit: the batch is
    /// cloned for each consumer but the last (`BroadcastDispatcher`).
    Broadcast,
    /// Each ask makes as many events; each event goes to the consumer of partition
    /// `event % consumers`, waiting in that partition's queue until its consumer has
    /// credit (`PartitionDispatcher`).
    Partition,
}

/// A producer's side of the credit protocol, shared by the tokio [`source`] and the
/// ractor [`RawSource`](crate::raw_ractor::RawSource): makes consecutive `u64`s as asks
/// come and shares them among its consumers by [`Route`].
#[derive(Debug)]
pub struct Router {
    events: u64,
    route: Route,
    next: u64,
    credit: Vec<usize>,
    queues: Vec<Vec<u64>>,
}

impl Router {
    /// A producer of `events` events for `consumers` consumers.
    pub fn new(events: u64, route: Route, consumers: usize) -> Router {
        Router {
            events,
            route,
            next: 0,
            credit: vec![0; consumers],
            queues: vec![Vec::new(); consumers],
        }
    }

    /// Whether every event has been made and handed out.
    pub fn finished(&self) -> bool {
        self.next >= self.events && self.queues.iter().all(Vec::is_empty)
    }

    /// Answers `ask`, handing each batch to `send(consumer, batch)`.
    pub fn ask(&mut self, Ask { from, demand }: Ask, mut send: impl FnMut(usize, Vec<u64>)) {
        match self.route {
            Route::Demand => {
                let end = self.events.min(self.next + demand as u64);
                if end > self.next {
                    send(from, (self.next..end).collect());
                    self.next = end;
                }
            }
            Route::Broadcast => {
                self.credit[from] += demand;
                let ready = self.credit.iter().copied().min().unwrap_or(0);
                let end = self.events.min(self.next + ready as u64);
                if end > self.next {
                    let batch: Vec<u64> = (self.next..end).collect();
                    let count = (end - self.next) as usize;
                    self.next = end;
                    let last = self.credit.len() - 1;
                    for consumer in 0..last {
                        send(consumer, batch.clone());
                    }
                    send(last, batch);
                    for credit in &mut self.credit {
                        *credit -= count;
                    }
                }
            }
            Route::Partition => {
                self.credit[from] += demand;
                let parts = self.queues.len() as u64;
                let end = self.events.min(self.next + demand as u64);
                for event in self.next..end {
                    self.queues[(event % parts) as usize].push(event);
                }
                self.next = end;
                let routed = self.queues.iter_mut().zip(&mut self.credit).enumerate();
                for (consumer, (queue, credit)) in routed {
                    let take = (*credit).min(queue.len());
                    if take == 0 {
                        continue;
                    }
                    let batch = if take == queue.len() {
                        std::mem::take(queue)
                    } else {
                        queue.drain(..take).collect()
                    };
                    *credit -= take;
                    send(consumer, batch);
                }
            }
        }
    }
}

/// A producer task: waits for `go` (holding the asks that arrive meanwhile), then answers
/// asks with `Vec` batches of consecutive `u64`s (a [`Router`]) until it has made
/// `events` events and handed each of them out. Returns, dropping its senders, when it
/// is done.
pub async fn source(
    events: u64,
    route: Route,
    go: oneshot::Receiver<()>,
    mut asks: UnboundedReceiver<Ask>,
    outs: Vec<UnboundedSender<Vec<u64>>>,
) {
    // The bench dropping `go` means the run was abandoned; the loop still ends with the
    // channels.
    let _ = go.await;
    let mut router = Router::new(events, route, outs.len());
    while !router.finished() {
        let Some(ask) = asks.recv().await else {
            return;
        };
        router.ask(ask, |consumer, batch| {
            // A consumer gone means the run is being torn down.
            let _ = outs[consumer].send(batch);
        });
    }
}

/// A consumer task: sums each batch into a [`Tally`] and re-asks as [`Credit`] says.
/// Its first ask (`credit.initial()`) is queued by whoever subscribes it (as
/// [`spawn_fan_out`] does), so that the pipeline is subscribed before the clock starts.
/// Ends when the producer's channel closes.
pub async fn sink(
    mut credit: Credit,
    from: usize,
    mut events: UnboundedReceiver<Vec<u64>>,
    asks: UnboundedSender<Ask>,
    tally: Arc<Tally>,
) {
    let mut total = 0u64;
    while let Some(batch) = events.recv().await {
        for chunk in batch.chunks(credit.batch()) {
            let sum = batch_sum(chunk);
            total = black_box(total.wrapping_add(sum));
            tally.add(chunk.len() as u64, sum);
            let demand = credit.consumed(chunk.len());
            if demand > 0 {
                let _ = asks.send(Ask { from, demand });
            }
        }
    }
}

/// A consumer task that runs one tokio task per event, as a `ConsumerSupervisor` of
/// tasks does: each task reports its event to `tally`, and the consumer re-asks for as
/// many events as tasks have finished once `min` of them have (gen_stage's
/// ConsumerSupervisor rule). Its first ask (`max`) is queued by whoever subscribes it.
/// Ends when the producer's channel is closed and every task has finished.
pub async fn task_sink(
    min: usize,
    mut events: UnboundedReceiver<Vec<u64>>,
    asks: UnboundedSender<Ask>,
    tally: Arc<Tally>,
) {
    let (finished, mut done) = mpsc::unbounded_channel::<()>();
    let (mut running, mut freed, mut open) = (0usize, 0usize, true);
    while open || running > 0 {
        tokio::select! {
            batch = events.recv(), if open => match batch {
                Some(batch) => {
                    running += batch.len();
                    for event in batch {
                        let (tally, finished) = (Arc::clone(&tally), finished.clone());
                        tokio::spawn(async move {
                            tally.add(1, event);
                            let _ = finished.send(());
                        });
                    }
                }
                None => open = false,
            },
            Some(()) = done.recv() => {
                running -= 1;
                freed += 1;
                if freed >= min.max(1) {
                    let _ = asks.send(Ask { from: 0, demand: freed });
                    freed = 0;
                }
            }
        }
    }
}

/// Spawns a [`source`] of `events` events → [`task_sink`] asking `max` and re-asking
/// after `min` finished tasks, reporting to `tally`.
///
/// # Panics
///
/// Outside a tokio runtime.
pub fn spawn_tasks(events: u64, max: usize, min: usize, tally: &Arc<Tally>) -> RawRun {
    let (go, opened) = oneshot::channel();
    let (asks, asked) = mpsc::unbounded_channel();
    asks.send(Ask {
        from: 0,
        demand: max,
    })
    .expect("the credit channel is open");
    let (out, received) = mpsc::unbounded_channel();
    let tasks = vec![
        tokio::spawn(task_sink(min, received, asks, Arc::clone(tally))),
        tokio::spawn(source(events, Route::Demand, opened, asked, vec![out])),
    ];
    RawRun { go, tasks }
}

/// A producer-consumer's side of the credit protocol, shared by the tokio [`map_stage`]
/// and the ractor [`RawMap`](crate::raw_ractor::RawMap): it handles upstream events only
/// while its consumer has credit, in batches of at most `credit.batch()`, applying
/// [`step`] to each event in place, and re-asks upstream as [`Credit`] says.
#[derive(Debug)]
pub struct MapCore {
    credit: Credit,
    queue: VecDeque<Vec<u64>>,
    open: usize,
}

impl MapCore {
    /// A producer-consumer asking upstream with `credit`.
    pub fn new(credit: Credit) -> MapCore {
        MapCore {
            credit,
            queue: VecDeque::new(),
            open: 0,
        }
    }

    /// Whether no upstream event waits.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty()
    }

    /// Upstream sent `batch`.
    pub fn received(&mut self, batch: Vec<u64>) {
        self.queue.push_back(batch);
    }

    /// The consumer asked for `demand` more.
    pub fn asked(&mut self, demand: usize) {
        self.open += demand;
    }

    /// Maps what the consumer has credit for, handing each batch to `down` and each ask
    /// for upstream to `up`.
    pub fn pump(&mut self, mut down: impl FnMut(Vec<u64>), mut up: impl FnMut(usize)) {
        while self.open > 0 {
            let Some(mut batch) = self.queue.pop_front() else {
                break;
            };
            let take = batch.len().min(self.open).min(self.credit.batch());
            if take < batch.len() {
                self.queue.push_front(batch.split_off(take));
            }
            // In-place: `into_iter().map().collect()` reuses the allocation.
            let mapped: Vec<u64> = batch.into_iter().map(step).collect();
            self.open -= take;
            down(mapped);
            let demand = self.credit.consumed(take);
            if demand > 0 {
                up(demand);
            }
        }
    }
}

/// A producer-consumer task between a [`source`] (as its consumer 0) and a [`sink`],
/// driving a [`MapCore`]. Its first ask upstream is queued by whoever subscribes it (as
/// [`spawn_map`] does). Ends when the source is done and everything it sent has been
/// passed on.
pub async fn map_stage(
    credit: Credit,
    mut upstream: UnboundedReceiver<Vec<u64>>,
    asks_up: UnboundedSender<Ask>,
    mut asks_down: UnboundedReceiver<Ask>,
    downstream: UnboundedSender<Vec<u64>>,
) {
    let mut core = MapCore::new(credit);
    let mut upstream_done = false;
    loop {
        core.pump(
            |mapped| {
                let _ = downstream.send(mapped);
            },
            |demand| {
                let _ = asks_up.send(Ask { from: 0, demand });
            },
        );
        if upstream_done && core.is_idle() {
            return;
        }
        tokio::select! {
            Some(ask) = asks_down.recv() => core.asked(ask.demand),
            batch = upstream.recv(), if !upstream_done => match batch {
                Some(batch) => core.received(batch),
                None => upstream_done = true,
            },
            else => return,
        }
    }
}

/// A raw tokio pipeline, spawned and subscribed, its source waiting for [`RawRun::go`].
#[derive(Debug)]
pub struct RawRun {
    /// Opens the source: send `()` when the clock starts.
    pub go: oneshot::Sender<()>,
    /// Every task of the pipeline; each ends once the run is over.
    pub tasks: Vec<JoinHandle<()>>,
}

/// Spawns a [`source`] of `events` events sharing them by `route` among `consumers`
/// [`sink`]s with demand `credit`, each reporting to `tally`.
///
/// # Panics
///
/// Outside a tokio runtime.
pub fn spawn_fan_out(
    events: u64,
    route: Route,
    consumers: usize,
    credit: Credit,
    tally: &Arc<Tally>,
) -> RawRun {
    let (go, opened) = oneshot::channel();
    let (asks, asked) = mpsc::unbounded_channel();
    let mut outs = Vec::with_capacity(consumers);
    let mut tasks = Vec::with_capacity(consumers + 1);
    for from in 0..consumers {
        // The subscription: the consumer's first ask waits in the credit channel.
        asks.send(Ask {
            from,
            demand: credit.initial(),
        })
        .expect("the credit channel is open");
        let (out, received) = mpsc::unbounded_channel();
        outs.push(out);
        tasks.push(tokio::spawn(sink(
            credit,
            from,
            received,
            asks.clone(),
            Arc::clone(tally),
        )));
    }
    tasks.push(tokio::spawn(source(events, route, opened, asked, outs)));
    RawRun { go, tasks }
}

/// Spawns a [`source`] of `events` events → [`map_stage`] → [`sink`], every subscription
/// with demand `credit`, the sink reporting to `tally`.
///
/// # Panics
///
/// Outside a tokio runtime.
pub fn spawn_map(events: u64, credit: Credit, tally: &Arc<Tally>) -> RawRun {
    let (go, opened) = oneshot::channel();
    let (asks_up, asked_up) = mpsc::unbounded_channel();
    let (asks_down, asked_down) = mpsc::unbounded_channel();
    let (out_up, received_up) = mpsc::unbounded_channel();
    let (out_down, received_down) = mpsc::unbounded_channel();
    // The two subscriptions: each subscriber's first ask waits in its credit channel.
    for asks in [&asks_up, &asks_down] {
        asks.send(Ask {
            from: 0,
            demand: credit.initial(),
        })
        .expect("the credit channel is open");
    }
    let tasks = vec![
        tokio::spawn(sink(credit, 0, received_down, asks_down, Arc::clone(tally))),
        tokio::spawn(map_stage(
            credit,
            received_up,
            asks_up,
            asked_down,
            out_down,
        )),
        tokio::spawn(source(
            events,
            Route::Demand,
            opened,
            asked_up,
            vec![out_up],
        )),
    ];
    RawRun { go, tasks }
}
