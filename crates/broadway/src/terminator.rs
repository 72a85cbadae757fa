//! The pipeline's last child: stopped first when the tree stops, it drains the
//! producers and waits for every stage to finish what it holds (Broadway's terminator).

use std::sync::Arc;
use std::time::Duration;

use arbor_actor::ractor::ActorStatus;
use arbor_actor::{Context, Exit, GenServer, Init};

use crate::source::{stopped, Names, SourcePlan};

pub(crate) struct Terminator<T> {
    pub(crate) source: Arc<dyn SourcePlan<T>>,
    pub(crate) names: Names,
    /// Stage names by layer: producers, processors, batchers, batch processors.
    pub(crate) layers: Arc<Vec<Vec<String>>>,
    pub(crate) deadline: Duration,
}

impl<T> Clone for Terminator<T> {
    fn clone(&self) -> Self {
        Terminator {
            source: Arc::clone(&self.source),
            names: self.names.clone(),
            layers: Arc::clone(&self.layers),
            deadline: self.deadline,
        }
    }
}

impl<T: Send + 'static> Terminator<T> {
    async fn drain(&self) {
        let Some(producers) = self.layers.first() else {
            return;
        };
        for key in producers {
            self.source.drain(&self.names, key);
        }
        // Each layer ends once the one before it has: producers after delivering what
        // they hold, processors when all their producers are gone, and so on.
        for layer in self.layers.iter() {
            for key in layer {
                stopped(&self.names, key).await;
            }
        }
    }
}

impl<T: Send + 'static> GenServer for Terminator<T> {
    type Args = ();
    type State = ();

    async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> {
        Init::Ready(())
    }

    async fn terminate(&self, _reason: &Exit, _: &mut (), ctx: &mut Context<Self>) {
        // Stopped by a restart of the stages before it (rest_for_one), with the
        // pipeline running on: nothing to drain.
        let pipeline_stopping = ctx
            .myself()
            .cell()
            .try_get_supervisor()
            .is_none_or(|supervisor| supervisor.get_status() != ActorStatus::Running);
        if !pipeline_stopping {
            return;
        }
        if tokio::time::timeout(self.deadline, self.drain())
            .await
            .is_err()
        {
            tracing::error!(pipeline = %self.names.name(), deadline = ?self.deadline, "pipeline did not drain in time: what is left is killed, unacknowledged");
        }
    }
}
