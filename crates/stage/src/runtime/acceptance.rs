//! Subscriptions a consumer has sent and its producers have not answered yet: who waits
//! for the answer (a `subscribe` call, or the stage's start).

use arbor_actor::{Exit, ReplyTo};

use super::StartAnswer;
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

/// The consumer's unanswered subscriptions.
#[derive(Default)]
pub(crate) struct Acceptance {
    waiting: TagMap<Unanswered>,
    /// The start, once it asks, while initial subscriptions are unanswered.
    start: Option<ReplyTo<StartReply>>,
    /// The first initial subscription refused before the start asked.
    start_failure: Option<SubscribeError>,
    /// Where the start's answer is also kept, for a start that asks after the stage has
    /// stopped (its producer delivered everything and ended before the start's call).
    kept: Option<StartAnswer>,
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

    /// Keeps the start's answer in `answer` too, once it is known: now, if no initial
    /// subscription waits.
    pub(crate) fn keep_start_answer(&mut self, answer: StartAnswer) {
        self.kept = Some(answer);
        if let Some(error) = self.start_failure.clone() {
            self.keep(Err(error));
        } else if !self.gated() {
            self.keep(Ok(()));
        }
    }

    fn keep(&self, answer: StartReply) {
        if let Some(Ok(mut slot)) = self.kept.as_ref().map(|kept| kept.lock()) {
            slot.get_or_insert(answer);
        }
    }

    /// Whether an initial subscription that gates the start is still unanswered.
    fn gated(&self) -> bool {
        self.waiting.values().any(|waiting| waiting.gates_start)
    }

    /// The start asks how its initial subscriptions went: answered now, or kept until
    /// the last one is.
    pub(crate) fn await_start(&mut self, start: ReplyTo<StartReply>) {
        if let Some(error) = self.start_failure.take() {
            start.reply(Err(error));
        } else if self.gated() {
            self.start = Some(start);
        } else {
            start.reply(Ok(()));
        }
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
        if waiting.gates_start {
            if let Err(error) = &answer {
                self.keep(Err(error.clone()));
                match self.start.take() {
                    Some(start) => {
                        start.reply(Err(error.clone()));
                    }
                    None => {
                        self.start_failure.get_or_insert_with(|| error.clone());
                    }
                }
            } else if !self.gated() {
                self.keep(Ok(()));
                if let Some(start) = self.start.take() {
                    start.reply(Ok(()));
                }
            }
        }
        if let Some(call) = waiting.call {
            // The caller may have given up waiting: then nobody needs the answer.
            let _ = call.reply(answer);
        }
    }
}
