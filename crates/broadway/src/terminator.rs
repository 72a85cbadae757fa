//! The pipeline's last child: stopped first when the tree stops, it drains the
//! producers and waits for every stage to finish what it holds (Broadway's terminator).

use std::sync::Arc;
use std::time::Duration;

use arbor_actor::{Context, Exit, GenServer, Init, Pid, Server, StartOptions};
use arbor_supervisor::{Child, ChildSpec, Shutdown};

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

impl<T: Send + 'static> Terminator<T> {
    /// The terminator's child spec: last in the tree, so first to stop.
    pub(crate) fn child_spec(self) -> ChildSpec {
        let shutdown = Shutdown::Timeout(self.deadline + Duration::from_secs(1));
        ChildSpec::from_fn("terminator", move |cell| {
            let terminator = self.clone();
            // Called by the pipeline's supervisor, in its own task: that is its pid.
            let supervisor = Pid::current().unwrap_or_else(|| Pid::from(cell.clone()));
            async move {
                let options = StartOptions::new().link(cell);
                Server::start_with(terminator, supervisor, options)
                    .await
                    .map(Child::from)
            }
        })
        .shutdown(shutdown)
    }
}

impl<T: Send + 'static> GenServer for Terminator<T> {
    /// The pipeline's supervisor.
    type Args = Pid;
    type State = Pid;

    async fn init(&self, supervisor: Pid, _ctx: &mut Context<Self>) -> Init<Pid> {
        Init::Ready(supervisor)
    }

    async fn terminate(&self, _reason: &Exit, supervisor: &mut Pid, _ctx: &mut Context<Self>) {
        // Stopped by a restart of the stages before it (rest_for_one), with the
        // pipeline running on: nothing to drain.
        if !supervisor.is_stopping() {
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
