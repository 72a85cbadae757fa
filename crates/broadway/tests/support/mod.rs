//! A recording pipeline shared by the tests: its behaviour is set by the data
//! (`Job`), and everything it sees is recorded in its context.

#![allow(dead_code)]

use std::sync::Mutex;

use arbor_broadway::{AckAction, AckConfig, BatchInfo, BoxError, Message, Pipeline};

/// What the pipeline does with one message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Job {
    pub(crate) id: u64,
    pub(crate) key: u64,
    pub(crate) fail: bool,
    pub(crate) panic: bool,
    pub(crate) batcher: Option<&'static str>,
    pub(crate) batch_key: Option<String>,
    pub(crate) fail_batch: bool,
}

impl Job {
    pub(crate) fn ok(id: u64) -> Self {
        Job {
            id,
            ..Job::default()
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Seen {
    pub(crate) chunks: Mutex<Vec<usize>>,
    pub(crate) handled: Mutex<Vec<(u64, u64)>>,
    pub(crate) batches: Mutex<Vec<(BatchInfo, Vec<u64>)>>,
    pub(crate) failed_seen: Mutex<Vec<u64>>,
    pub(crate) fail_prepare: bool,
    /// When each message was handled (paused-clock tests).
    pub(crate) times: Mutex<Vec<tokio::time::Instant>>,
    /// How long each batch takes.
    pub(crate) batch_delay: std::time::Duration,
}

pub(crate) struct Recorder;

/// Messages with ids `ids`, all acknowledged to `acknowledger`.
pub(crate) fn messages(
    jobs: impl IntoIterator<Item = Job>,
    acknowledger: &std::sync::Arc<arbor_broadway::CallerAcknowledger<Job>>,
) -> Vec<Message<Job>> {
    jobs.into_iter()
        .map(|job| {
            let data = arbor_broadway::AckData {
                id: job.id,
                redelivered: false,
            };
            Message::with_acknowledger(job, acknowledger.clone(), data)
        })
        .collect()
}

/// Receives ack calls until every message holding the acknowledger is gone; returns
/// `(id, successful)` for every acknowledgement, in order.
pub(crate) async fn all_acks(
    mut calls: tokio::sync::mpsc::UnboundedReceiver<arbor_broadway::AckCall<Job>>,
) -> Vec<(u64, bool)> {
    let mut acks = Vec::new();
    while let Some(call) = calls.recv().await {
        acks.extend(
            call.messages
                .iter()
                .map(|(id, acked)| (*id, acked.is_successful())),
        );
    }
    acks
}

impl Pipeline for Recorder {
    type Data = Job;
    type Context = std::sync::Arc<Seen>;

    async fn prepare_messages(
        &self,
        messages: &mut [Message<Job>],
        seen: &std::sync::Arc<Seen>,
    ) -> Result<(), BoxError> {
        seen.chunks.lock().unwrap().push(messages.len());
        if seen.fail_prepare {
            return Err("prepare failed".into());
        }
        Ok(())
    }

    async fn handle_message(
        &self,
        _: &str,
        message: &mut Message<Job>,
        seen: &std::sync::Arc<Seen>,
    ) -> Result<(), BoxError> {
        let job = message.data().clone();
        seen.handled.lock().unwrap().push((job.key, job.id));
        seen.times.lock().unwrap().push(tokio::time::Instant::now());
        if job.panic {
            panic!("job {} panicked", job.id);
        }
        if job.fail {
            message.failed(format!("job {} failed", job.id));
        }
        if let Some(batcher) = job.batcher {
            message.put_batcher(batcher);
        }
        if let Some(key) = job.batch_key {
            message.put_batch_key(key);
        }
        Ok(())
    }

    async fn handle_batch(
        &self,
        _: &str,
        messages: &mut [Message<Job>],
        info: &BatchInfo,
        seen: &std::sync::Arc<Seen>,
    ) -> Result<(), BoxError> {
        let ids = messages.iter().map(|m| m.data().id).collect();
        seen.batches.lock().unwrap().push((info.clone(), ids));
        if !seen.batch_delay.is_zero() {
            tokio::time::sleep(seen.batch_delay).await;
        }
        if messages.iter().any(|m| m.data().fail_batch) {
            return Err("batch failed".into());
        }
        Ok(())
    }

    async fn handle_failed(
        &self,
        messages: &mut [Message<Job>],
        seen: &std::sync::Arc<Seen>,
    ) -> Result<(), BoxError> {
        for message in messages.iter_mut() {
            seen.failed_seen.lock().unwrap().push(message.data().id);
            message.configure_ack(AckConfig::default().on_failure(AckAction::Reject))?;
        }
        Ok(())
    }
}
