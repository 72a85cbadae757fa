//! Acknowledges a channel's deliveries: the pipeline's verdicts are handed to a task
//! that owns the channel, which acks, rejects or requeues each in order.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use lapin::options::{BasicAckOptions, BasicRejectOptions};
use lapin::{Channel, Connection};
use tokio::sync::{mpsc, watch};

use crate::acknowledger::{AckAction, AckConfig, Acknowledger, ConfigureAckError};
use crate::message::Message;

/// What became of the acknowledgements of a producer's deliveries, across reconnects.
#[derive(Debug, Default)]
pub struct AckStats {
    /// Deliveries acknowledged.
    pub acked: AtomicU64,
    /// Deliveries rejected (dropped or dead-lettered by the broker).
    pub rejected: AtomicU64,
    /// Deliveries rejected with requeue.
    pub requeued: AtomicU64,
    /// Verdicts that could not be sent because the delivery's channel had died (the
    /// broker requeued those deliveries itself).
    pub lost_channel: AtomicU64,
}

impl AckStats {
    fn count(&self, action: AckAction) {
        let counter = match action {
            AckAction::Ack => &self.acked,
            AckAction::Reject => &self.rejected,
            AckAction::RejectAndRequeue | AckAction::RejectAndRequeueOnce => &self.requeued,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The acknowledger of one channel's deliveries.
pub(super) struct ChannelAcknowledger {
    verdicts: mpsc::UnboundedSender<Vec<(u64, AckAction)>>,
    on_success: AckAction,
    on_failure: AckAction,
    stats: Arc<AckStats>,
}

impl ChannelAcknowledger {
    /// Starts the task that acknowledges on `channel` (it keeps `connection` open while
    /// messages of this channel are in the pipeline).
    pub(super) fn start(
        connection: Connection,
        channel: Channel,
        on_success: AckAction,
        on_failure: AckAction,
        stats: Arc<AckStats>,
        open: watch::Sender<usize>,
    ) -> Arc<Self> {
        let (verdicts, mut pending) = mpsc::unbounded_channel::<Vec<(u64, AckAction)>>();
        let task_stats = Arc::clone(&stats);
        open.send_modify(|open| *open += 1);
        tokio::spawn(async move {
            while let Some(verdicts) = pending.recv().await {
                for (tag, action) in verdicts {
                    if send(&channel, tag, action).await {
                        task_stats.count(action);
                    } else {
                        task_stats.lost_channel.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            // No message of this channel is left: close it properly, which also makes
            // sure the last acknowledgements reached the broker.
            if connection.status().connected() {
                if let Err(error) = connection.close(200, "drained".into()).await {
                    tracing::debug!(%error, "closing a drained connection failed");
                }
            }
            open.send_modify(|open| *open -= 1);
        });
        Arc::new(ChannelAcknowledger {
            verdicts,
            on_success,
            on_failure,
            stats,
        })
    }

    fn verdict<T: 'static>(&self, message: &Message<T>, ok: bool) -> (u64, AckAction) {
        let config = message.ack_config();
        let action = if ok {
            config.and_then(|c| c.on_success).unwrap_or(self.on_success)
        } else {
            config.and_then(|c| c.on_failure).unwrap_or(self.on_failure)
        };
        let data = message.ack_data();
        let action = match action {
            AckAction::RejectAndRequeueOnce if data.redelivered => AckAction::Reject,
            other => other,
        };
        (data.id, action)
    }
}

/// Sends one verdict; `false` when the channel is gone.
async fn send(channel: &Channel, tag: u64, action: AckAction) -> bool {
    let sent = match action {
        AckAction::Ack => channel.basic_ack(tag, BasicAckOptions::default()).await,
        AckAction::Reject => {
            channel
                .basic_reject(tag, BasicRejectOptions { requeue: false })
                .await
        }
        AckAction::RejectAndRequeue | AckAction::RejectAndRequeueOnce => {
            channel
                .basic_reject(tag, BasicRejectOptions { requeue: true })
                .await
        }
    };
    if let Err(error) = &sent {
        tracing::warn!(delivery_tag = tag, %error, "acknowledgement not sent: the channel is gone, the broker redelivers the message");
    }
    sent.is_ok()
}

impl<T: 'static> Acknowledger<T> for ChannelAcknowledger {
    fn ack(&self, successful: Vec<Message<T>>, failed: Vec<Message<T>>) {
        let verdicts: Vec<(u64, AckAction)> = successful
            .iter()
            .map(|message| self.verdict(message, true))
            .chain(failed.iter().map(|message| self.verdict(message, false)))
            .collect();
        let count = verdicts.len() as u64;
        if self.verdicts.send(verdicts).is_err() {
            self.stats.lost_channel.fetch_add(count, Ordering::Relaxed);
            tracing::warn!(
                messages = count,
                "acknowledgements dropped: the channel's task ended"
            );
        }
    }

    fn configure(&self, _config: &AckConfig) -> Result<(), ConfigureAckError> {
        Ok(())
    }
}
