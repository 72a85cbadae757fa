//! Subscriptions a consumer has sent and its producers have not answered yet: who waits
//! for the answer (a `subscribe` call, or the stage's start).

use std::sync::{Arc, Mutex};

use arbor_actor::{Exit, ReplyTo};
use tokio::sync::Notify;

use crate::tag::TagMap;
use crate::{SubscribeError, SubscriptionTag};

/// What a run-time `subscribe` call gets back.
pub(crate) type SubscribeReply = Result<SubscriptionTag, SubscribeError>;
/// What the stage's start gets back about its initial subscriptions.
pub(crate) type StartReply = Result<(), SubscribeError>;

/// One subscription waiting for its producer's answer.
#[derive(Default)]
struct Unanswered {
    /// The `subscribe` call to answer, if it was one.
    call: Option<ReplyTo<SubscribeReply>>,
    /// An initial subscription whose refusal fails the start (its cancel mode is not
    /// `Temporary`).
    gates_start: bool,
}

/// What a stage's start waits for: the answer about its initial subscriptions, shared by
/// the stage and `StageBuilder::start`, so that the answer outlives the stage (a stage can
/// stop before its start reads it: its producer delivered everything and ended).
#[derive(Default)]
pub(crate) struct StartAnswer {
    answer: Mutex<Option<StartReply>>,
    known: Notify,
}

impl StartAnswer {
    /// Records `answer`, unless one is recorded already.
    pub(crate) fn record(&self, answer: StartReply) {
        if let Ok(mut slot) = self.answer.lock() {
            if slot.is_none() {
                *slot = Some(answer);
                self.known.notify_one();
            }
        }
    }

    /// The answer, if it is known.
    pub(crate) fn recorded(&self) -> Option<StartReply> {
        self.answer.lock().ok()?.clone()
    }

    /// Waits until the answer is known.
    pub(crate) async fn known(&self) -> StartReply {
        loop {
            if let Some(answer) = self.recorded() {
                return answer;
            }
            // A record made since the check above left a permit: this returns at once.
            self.known.notified().await;
        }
    }
}

/// The consumer's unanswered subscriptions.
#[derive(Default)]
pub(crate) struct Acceptance {
    waiting: TagMap<Unanswered>,
    /// Where the start's answer goes once it is known: the first refusal, or `Ok` once
    /// every initial subscription is accepted (none for a stage started by a child spec,
    /// whose start does not wait).
    answer: Option<Arc<StartAnswer>>,
}

impl Acceptance {
    /// `tag` was sent to its producer.
    pub(crate) fn sent(&mut self, tag: SubscriptionTag) {
        self.waiting.insert(tag, Unanswered::default());
    }

    /// The `subscribe` call waits for `tag`'s answer.
    pub(crate) fn answer_call(&mut self, tag: SubscriptionTag, call: ReplyTo<SubscribeReply>) {
        if let Some(waiting) = self.waiting.get_mut(&tag) {
            waiting.call = Some(call);
        }
    }

    /// The start waits for `tag`'s answer.
    pub(crate) fn gate_start(&mut self, tag: SubscriptionTag) {
        if let Some(waiting) = self.waiting.get_mut(&tag) {
            waiting.gates_start = true;
        }
    }

    /// Gives the start's answer to `answer`: now, if no initial subscription waits.
    pub(crate) fn answer_start_in(&mut self, answer: Arc<StartAnswer>) {
        if !self.gated() {
            answer.record(Ok(()));
        }
        self.answer = Some(answer);
    }

    /// Whether an initial subscription that gates the start is still unanswered.
    fn gated(&self) -> bool {
        self.waiting.values().any(|waiting| waiting.gates_start)
    }

    /// The producer accepted `tag`.
    pub(crate) fn accepted(&mut self, tag: SubscriptionTag) {
        self.settle(tag, Ok(tag));
    }

    /// The producer refused `tag`, or stopped before answering.
    pub(crate) fn refused(&mut self, tag: SubscriptionTag, reason: &Exit) {
        self.settle(tag, Err(SubscribeError::Refused(reason.clone())));
    }

    fn settle(&mut self, tag: SubscriptionTag, answer: SubscribeReply) {
        let Some(waiting) = self.waiting.remove(&tag) else {
            return;
        };
        // A refusal answers the start at once; acceptances once the last one is in.
        if waiting.gates_start && (answer.is_err() || !self.gated()) {
            if let Some(start) = &self.answer {
                start.record(answer.clone().map(|_| ()));
            }
        }
        if let Some(call) = waiting.call {
            // The caller may have given up waiting: then nobody needs the answer.
            let _ = call.reply(answer);
        }
    }
}
