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
}

pub(crate) struct Recorder;

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
