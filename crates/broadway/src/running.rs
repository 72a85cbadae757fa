//! A running pipeline: its supervision tree, and the handle that pushes messages into
//! its producers, which the test helpers use (Broadway's `test_message` / `test_batch`).

use std::fmt;
use std::sync::Arc;

use arbor_actor::Exit;
use arbor_supervisor::Supervisor;
use thiserror::Error;

use crate::acknowledger::{AckData, Acked, CallerAcknowledger};
use crate::message::Message;
use crate::producer::PushError;
use crate::source::{Names, SourcePlan};

/// A running pipeline, made by [`BroadwayBuilder::start`](crate::BroadwayBuilder::start).
///
/// Stopping it ([`stop`](Self::stop)) is graceful: the producers stop taking messages,
/// everything in flight is processed, partial batches are flushed, every message is
/// acknowledged, then the tree stops.
///
/// See [`BroadwayBuilder`](crate::BroadwayBuilder) for an example.
pub struct Broadway<T> {
    supervisor: Supervisor,
    producers: Producers<T>,
}

impl<T: Send + 'static> Broadway<T> {
    pub(crate) fn new(supervisor: Supervisor, producers: Producers<T>) -> Self {
        Broadway {
            supervisor,
            producers,
        }
    }

    /// The pipeline's supervisor (its tree, its children).
    pub fn supervisor(&self) -> &Supervisor {
        &self.supervisor
    }

    /// The pipeline's producers.
    pub fn producers(&self) -> &Producers<T> {
        &self.producers
    }

    /// Drains the pipeline and stops it; returns the supervisor's exit.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not cancel the stop.
    pub async fn stop(&self) -> Exit {
        self.supervisor.stop(Exit::shutdown()).await
    }

    /// [`Producers::test_message`].
    ///
    /// # Errors
    ///
    /// As [`Producers::test_message`].
    pub async fn test_message(&self, data: T) -> Result<Acked<T>, TestError> {
        self.producers.test_message(data).await
    }

    /// [`Producers::test_batch`].
    ///
    /// # Errors
    ///
    /// As [`Producers::test_batch`].
    pub async fn test_batch(&self, data: Vec<T>) -> Result<Vec<Acked<T>>, TestError> {
        self.producers.test_batch(data).await
    }
}

impl<T> fmt::Debug for Broadway<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Broadway")
            .field("supervisor", &self.supervisor)
            .finish_non_exhaustive()
    }
}

/// Returned by the test helpers.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TestError {
    /// The messages could not be pushed.
    #[error("could not push the test messages")]
    Push(#[from] PushError),
    /// Some messages were dropped without an acknowledgement (a stage crashed).
    #[error("{missing} test messages were never acknowledged")]
    Lost {
        /// How many.
        missing: usize,
    },
    /// A message was acknowledged twice: a bug in the pipeline.
    #[error("test message {0} was acknowledged twice")]
    AckedTwice(u64),
}

/// Reaches a pipeline's producers by name, across their restarts.
pub struct Producers<T> {
    source: Arc<dyn SourcePlan<T>>,
    names: Names,
    keys: Arc<[String]>,
}

impl<T> Clone for Producers<T> {
    fn clone(&self) -> Self {
        Producers {
            source: Arc::clone(&self.source),
            names: self.names.clone(),
            keys: Arc::clone(&self.keys),
        }
    }
}

impl<T: Send + 'static> Producers<T> {
    pub(crate) fn new(source: Arc<dyn SourcePlan<T>>, names: Names, keys: Arc<[String]>) -> Self {
        Producers {
            source,
            names,
            keys,
        }
    }

    /// The producers' names in the pipeline (Broadway's `producer_names`).
    pub fn names(&self) -> &[String] {
        &self.keys
    }

    /// Emits `messages` from producer `index` (Broadway's `push_messages`); they go
    /// through the pipeline like any other.
    ///
    /// # Errors
    ///
    /// [`PushError::ProducerDown`] when that producer is not running (or does not exist).
    pub fn push(&self, index: usize, messages: Vec<Message<T>>) -> Result<(), PushError> {
        let key = self.keys.get(index).ok_or(PushError::ProducerDown)?;
        self.source.push(&self.names, key, messages)
    }

    /// Sends one message with `data` through the pipeline and returns how it was
    /// acknowledged.
    ///
    /// # Errors
    ///
    /// As [`test_batch`](Self::test_batch).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future leaves the message in the pipeline.
    pub async fn test_message(&self, data: T) -> Result<Acked<T>, TestError> {
        let mut acked = self.test_batch(vec![data]).await?;
        acked.pop().ok_or(TestError::Lost { missing: 1 })
    }

    /// Sends messages with `data` through the pipeline from its first producer and
    /// returns, in the same order, how each was acknowledged.
    ///
    /// # Errors
    ///
    /// [`TestError::Push`] when the producer is down, [`TestError::Lost`] when messages
    /// were dropped unacknowledged, [`TestError::AckedTwice`] when one was acknowledged
    /// twice.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future leaves the messages in the pipeline.
    pub async fn test_batch(&self, data: Vec<T>) -> Result<Vec<Acked<T>>, TestError> {
        let (acknowledger, mut calls) = CallerAcknowledger::channel();
        let count = data.len();
        let messages = data
            .into_iter()
            .enumerate()
            .map(|(id, data)| {
                let ack = AckData {
                    id: id as u64,
                    redelivered: false,
                };
                Message::with_acknowledger(data, acknowledger.clone(), ack)
            })
            .collect();
        // Only the messages hold the acknowledger now: if they are all dropped, the
        // channel closes instead of waiting forever.
        drop(acknowledger);
        self.push(0, messages)?;
        let mut outcomes: Vec<Option<Acked<T>>> = (0..count).map(|_| None).collect();
        let mut missing = count;
        while missing > 0 {
            let Some(call) = calls.recv().await else {
                return Err(TestError::Lost { missing });
            };
            for (id, acked) in call.messages {
                let slot = usize::try_from(id)
                    .ok()
                    .and_then(|at| outcomes.get_mut(at))
                    .ok_or(TestError::AckedTwice(id))?;
                if slot.replace(acked).is_some() {
                    return Err(TestError::AckedTwice(id));
                }
                missing -= 1;
            }
        }
        Ok(outcomes.into_iter().flatten().collect())
    }
}

impl<T> fmt::Debug for Producers<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producers")
            .field("names", &self.keys)
            .finish_non_exhaustive()
    }
}
