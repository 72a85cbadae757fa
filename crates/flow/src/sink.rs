//! Sinks: what runs a flow. `collect` / `run` / `into_stream` (async), their blocking
//! forms, and `into_stages` / `start` for flows that feed running consumers.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use arbor_stage::{stream, Cancel, EventStream, StreamError, SubscribeOptions};
use futures_core::Stream;

use crate::materialize::{Build, Dispatch};
use crate::{Flow, FlowError};

/// The events of a running flow, read with back-pressure: the flow's sources are read
/// only as fast as this stream is. Made by [`Flow::into_stream`].
///
/// The flow's stages stop when the stream ends, fails, or is dropped.
pub struct FlowStream<T: Send + 'static> {
    events: EventStream<T>,
    build: Build,
    ended: bool,
}

impl<T: Send + 'static> fmt::Debug for FlowStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowStream")
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

fn failed(error: StreamError) -> FlowError {
    FlowError::Failed {
        stage: error.producer,
        reason: error.reason,
    }
}

impl<T: Send + 'static> FlowStream<T> {
    /// The next event; `None` once every source has ended and every stage has emitted
    /// its last events.
    ///
    /// # Errors
    ///
    /// [`FlowError::Failed`], once, when a stage of the flow stopped abnormally; the
    /// stream ends after it.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: an event is taken only when it is returned.
    pub async fn next(&mut self) -> Option<Result<T, FlowError>> {
        if self.ended {
            return None;
        }
        let next = self.events.next().await;
        self.after(next)
    }

    fn after(&mut self, next: Option<Result<T, StreamError>>) -> Option<Result<T, FlowError>> {
        match next {
            Some(Ok(event)) => Some(Ok(event)),
            Some(Err(error)) => {
                self.end();
                Some(Err(failed(error)))
            }
            None => {
                self.end();
                None
            }
        }
    }

    fn end(&mut self) {
        if !self.ended {
            self.ended = true;
            self.build.supervisor().cell().stop(None);
        }
    }
}

impl<T: Send + 'static> Stream for FlowStream<T> {
    type Item = Result<T, FlowError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.ended {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.events).poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(next) => Poll::Ready(self.after(next)),
        }
    }
}

impl<T: Send + 'static> Drop for FlowStream<T> {
    fn drop(&mut self) {
        self.end();
    }
}

impl<T: Send + 'static, I: Send + 'static> Flow<T, I> {
    /// Starts the flow and returns its events as a [`FlowStream`] (Flow's `Enumerable`
    /// side: `Enum.to_list`, `Stream.take`...).
    ///
    /// # Errors
    ///
    /// [`FlowError::Invalid`] for a plan that cannot run, before anything starts;
    /// [`FlowError::Start`] / [`FlowError::Supervisor`] when a stage does not start (the
    /// stages already started are stopped).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future while it starts the flow may leave the stages started so far
    /// running until their sources end.
    pub async fn into_stream(self) -> Result<FlowStream<T>, FlowError> {
        let upstream = self.close()?;
        let build = Build::new().await?;
        let started = async {
            let producers = upstream(build.clone(), Dispatch::Demand).await?;
            let mut reader = stream();
            for producer in producers {
                reader = reader
                    .subscribe_to(producer, SubscribeOptions::new().cancel(Cancel::Transient));
            }
            reader.start().await.map_err(FlowError::Start)
        };
        match started.await {
            Ok(events) => {
                build.release();
                Ok(FlowStream {
                    events,
                    build,
                    ended: false,
                })
            }
            Err(error) => {
                build.stop().await;
                Err(error)
            }
        }
    }

    /// Runs the flow to its end and returns every event it emitted (in no particular
    /// order across stages).
    ///
    /// # Errors
    ///
    /// As [`into_stream`](Flow::into_stream), and [`FlowError::Failed`] when a stage
    /// stopped abnormally.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future stops the flow.
    pub async fn collect(self) -> Result<Vec<T>, FlowError> {
        let mut events = self.into_stream().await?;
        let mut all = Vec::new();
        while let Some(event) = events.next().await {
            all.push(event?);
        }
        Ok(all)
    }

    /// Runs the flow to its end for its side effects, dropping its events.
    ///
    /// # Errors
    ///
    /// As [`collect`](Flow::collect).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future stops the flow.
    pub async fn run(self) -> Result<(), FlowError> {
        let mut events = self.into_stream().await?;
        while let Some(event) = events.next().await {
            event?;
        }
        Ok(())
    }

    /// [`collect`](Flow::collect) from synchronous code: runs the flow on a runtime of its
    /// own (one worker per core) and blocks until it ends.
    ///
    /// # Errors
    ///
    /// [`FlowError::InsideRuntime`] when called from inside a tokio runtime (use
    /// `collect().await` there); [`FlowError::Runtime`] when the runtime cannot be
    /// built; otherwise as [`collect`](Flow::collect).
    pub fn collect_blocking(self) -> Result<Vec<T>, FlowError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(FlowError::InsideRuntime);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_time()
            .build()
            .map_err(FlowError::Runtime)?;
        runtime.block_on(self.collect())
    }
}
