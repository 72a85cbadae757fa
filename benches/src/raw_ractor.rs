//! The raw ractor legs of the `stage` bench: the credit protocol of [`crate::pipeline`]
//! written on plain ractor actors, one actor per stage, the ceiling for a GenStage on
//! ractor.
//!
//! Every actor speaks [`RawMsg`]; the protocol's logic is the tokio legs' own
//! ([`Router`], [`MapCore`], [`Credit`]), so the two raw legs differ only in the substrate.

use std::hint::black_box;
use std::sync::Arc;

use arbor_actor::ractor::{Actor, ActorProcessingErr, ActorRef};

use crate::pipeline::{batch_sum, Ask, Credit, MapCore, Route, Router, Tally};

/// What the raw stages tell each other.
#[derive(Debug)]
pub enum RawMsg {
    /// Consumer number `from` of a producer, sent by it when it starts.
    Subscribe(usize, ActorRef<RawMsg>),
    /// A consumer wants more events.
    Ask(Ask),
    /// A batch from the producer.
    Events(Vec<u64>),
    /// Start answering asks (the bench's clock starts).
    Go,
}

/// The raw producer: answers asks with batches of consecutive `u64`s routed by a
/// [`Router`], until it has made its events. Holds asks until `Go`.
#[derive(Debug, Clone, Copy)]
pub struct RawSource {
    /// How its events are shared among its consumers.
    pub route: Route,
    /// How many consumers subscribe.
    pub consumers: usize,
}

/// [`RawSource`]'s state.
#[derive(Debug)]
pub struct RawSourceState {
    router: Router,
    consumers: Vec<Option<ActorRef<RawMsg>>>,
    open: bool,
    held: Vec<Ask>,
}

impl RawSourceState {
    fn serve(&mut self, ask: Ask) {
        let consumers = &self.consumers;
        self.router.ask(ask, |consumer, batch| {
            if let Some(Some(consumer)) = consumers.get(consumer) {
                // A consumer gone means the run is being torn down.
                let _ = consumer.cast(RawMsg::Events(batch));
            }
        });
    }
}

impl Actor for RawSource {
    type Msg = RawMsg;
    type State = RawSourceState;
    type Arguments = u64;

    async fn pre_start(
        &self,
        _myself: ActorRef<RawMsg>,
        events: u64,
    ) -> Result<RawSourceState, ActorProcessingErr> {
        Ok(RawSourceState {
            router: Router::new(events, self.route, self.consumers),
            consumers: vec![None; self.consumers],
            open: false,
            held: Vec::new(),
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<RawMsg>,
        message: RawMsg,
        state: &mut RawSourceState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            RawMsg::Subscribe(from, consumer) => {
                if let Some(slot) = state.consumers.get_mut(from) {
                    *slot = Some(consumer);
                }
            }
            RawMsg::Ask(ask) if state.open => state.serve(ask),
            RawMsg::Ask(ask) => state.held.push(ask),
            RawMsg::Go => {
                state.open = true;
                for ask in std::mem::take(&mut state.held) {
                    state.serve(ask);
                }
            }
            RawMsg::Events(_) => {}
        }
        Ok(())
    }
}

/// Subscribes `myself` as consumer `from` of `upstream` and sends its first ask.
fn subscribe(
    upstream: &ActorRef<RawMsg>,
    from: usize,
    myself: ActorRef<RawMsg>,
    credit: Credit,
) -> Result<(), ActorProcessingErr> {
    upstream.cast(RawMsg::Subscribe(from, myself))?;
    upstream.cast(RawMsg::Ask(Ask {
        from,
        demand: credit.initial(),
    }))?;
    Ok(())
}

/// The raw consumer: subscribes to its producer as consumer `from` and asks when it
/// starts, sums each batch into a [`Tally`] and re-asks as [`Credit`] says.
#[derive(Debug)]
pub struct RawSink {
    /// Its producer.
    pub upstream: ActorRef<RawMsg>,
    /// Its index among the producer's consumers.
    pub from: usize,
    /// Its demand.
    pub credit: Credit,
    /// Where it reports.
    pub tally: Arc<Tally>,
}

impl Actor for RawSink {
    type Msg = RawMsg;
    type State = (Credit, u64);
    type Arguments = ();

    async fn pre_start(
        &self,
        myself: ActorRef<RawMsg>,
        _: (),
    ) -> Result<(Credit, u64), ActorProcessingErr> {
        subscribe(&self.upstream, self.from, myself, self.credit)?;
        Ok((self.credit, 0))
    }

    async fn handle(
        &self,
        _myself: ActorRef<RawMsg>,
        message: RawMsg,
        (credit, total): &mut (Credit, u64),
    ) -> Result<(), ActorProcessingErr> {
        let RawMsg::Events(batch) = message else {
            return Ok(());
        };
        for chunk in batch.chunks(credit.batch()) {
            let sum = batch_sum(chunk);
            *total = black_box(total.wrapping_add(sum));
            self.tally.add(chunk.len() as u64, sum);
            let demand = credit.consumed(chunk.len());
            if demand > 0 {
                // The producer stops only after the run; a failed cast is the teardown.
                let _ = self.upstream.cast(RawMsg::Ask(Ask {
                    from: self.from,
                    demand,
                }));
            }
        }
        Ok(())
    }
}

/// The raw producer-consumer: a [`MapCore`] between its producer (as consumer 0) and its
/// one consumer.
#[derive(Debug)]
pub struct RawMap {
    /// Its producer.
    pub upstream: ActorRef<RawMsg>,
    /// Its demand upstream.
    pub credit: Credit,
}

/// [`RawMap`]'s state.
#[derive(Debug)]
pub struct RawMapState {
    core: MapCore,
    downstream: Option<ActorRef<RawMsg>>,
}

impl Actor for RawMap {
    type Msg = RawMsg;
    type State = RawMapState;
    type Arguments = ();

    async fn pre_start(
        &self,
        myself: ActorRef<RawMsg>,
        _: (),
    ) -> Result<RawMapState, ActorProcessingErr> {
        subscribe(&self.upstream, 0, myself, self.credit)?;
        Ok(RawMapState {
            core: MapCore::new(self.credit),
            downstream: None,
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<RawMsg>,
        message: RawMsg,
        state: &mut RawMapState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            RawMsg::Subscribe(_, consumer) => state.downstream = Some(consumer),
            RawMsg::Ask(ask) => state.core.asked(ask.demand),
            RawMsg::Events(batch) => state.core.received(batch),
            RawMsg::Go => {}
        }
        let downstream = &state.downstream;
        state.core.pump(
            |mapped| {
                if let Some(downstream) = downstream {
                    let _ = downstream.cast(RawMsg::Events(mapped));
                }
            },
            |demand| {
                let _ = self.upstream.cast(RawMsg::Ask(Ask { from: 0, demand }));
            },
        );
        Ok(())
    }
}
