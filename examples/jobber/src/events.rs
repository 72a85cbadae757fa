//! `JobEvents`: a subscription to what the jobs of one application do.

use std::collections::HashMap;

use tokio::sync::broadcast::{self, error::RecvError};

use crate::job::{JobEvent, Status};

/// The [`JobEvent`]s of every job started after the subscription, in the order each job
/// sent them; see [`Jobber::subscribe`](crate::Jobber::subscribe).
#[derive(Debug)]
pub struct JobEvents {
    receiver: broadcast::Receiver<JobEvent>,
    lagged: u64,
    /// Ends seen while waiting for another job's, kept for a later `ended`.
    ends: HashMap<String, JobEnd>,
}

/// How a job ended on its own, from its [`JobEvent::Exiting`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobEnd {
    /// [`Status::Done`] or [`Status::Failed`].
    pub status: Status,
    /// Failed retries.
    pub retries: u32,
}

impl JobEvents {
    pub(crate) fn new(receiver: broadcast::Receiver<JobEvent>) -> Self {
        JobEvents {
            receiver,
            lagged: 0,
            ends: HashMap::new(),
        }
    }

    /// The next event; `None` once the application and all its jobs are gone.
    ///
    /// Events a slow subscriber missed (more than the channel holds) are skipped and
    /// counted in [`JobEvents::lagged`].
    pub async fn recv(&mut self) -> Option<JobEvent> {
        loop {
            match self.receiver.recv().await {
                Ok(event) => return Some(event),
                Err(RecvError::Lagged(missed)) => self.lagged += missed,
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// Waits until job `id` ends on its own and says how. `None` if the events end
    /// first. Ends of other jobs seen meanwhile are kept, so jobs can be waited for in
    /// any order; other events are consumed. A job that crashes for good never ends on
    /// its own: wait for its supervisor instead.
    pub async fn ended(&mut self, id: &str) -> Option<JobEnd> {
        if let Some(end) = self.ends.remove(id) {
            return Some(end);
        }
        while let Some(event) = self.recv().await {
            if let JobEvent::Exiting {
                id: ended,
                status,
                retries,
            } = event
            {
                let end = JobEnd { status, retries };
                if ended == id {
                    return Some(end);
                }
                self.ends.insert(ended, end);
            }
        }
        None
    }

    /// How many events were skipped because this subscriber fell behind.
    pub fn lagged(&self) -> u64 {
        self.lagged
    }
}
