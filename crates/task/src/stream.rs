//! `async_stream`: run a function on every item of a collection as concurrent tasks, and
//! read the results as a `Stream` (Elixir's `Task.async_stream`).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use arbor_actor::Pid;
use futures_core::Stream;
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;
use tokio::task::JoinHandle;

use crate::{ItemError, StreamOptionsError, TaskError, TaskSupervisor};

/// What a stream does when an item's task times out (Elixir's `:on_timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnTimeout {
    /// The stream yields the timeout and ends, shutting down every task still running
    /// (`:exit`, where the caller exits). The default.
    #[default]
    Exit,
    /// The timed-out task is shut down, the stream yields its timeout as that item's
    /// result and goes on (`:kill_task`).
    KillTask,
}

/// Options of an [`AsyncStream`]: Elixir's `async_stream` options.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use arbor_task::{OnTimeout, StreamOptions};
///
/// let options = StreamOptions::default()
///     .max_concurrency(8)
///     .ordered(false)
///     .timeout(Duration::from_secs(2))
///     .on_timeout(OnTimeout::KillTask);
/// assert_eq!(options.max_concurrency, 8);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[must_use]
pub struct StreamOptions {
    /// How many tasks run at once, at most. Default: the number of cores (Elixir's
    /// `System.schedulers_online/0`).
    pub max_concurrency: usize,
    /// Whether results come in input order (a finished task's result waits for those
    /// before it) or in completion order. Default: `true`.
    pub ordered: bool,
    /// How long each task may run, counted from its own start. Default: 5 s; `None`: no
    /// limit.
    pub timeout: Option<Duration>,
    /// What a timeout does to the stream. Default: [`OnTimeout::Exit`].
    pub on_timeout: OnTimeout,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            max_concurrency: std::thread::available_parallelism().map_or(1, usize::from),
            ordered: true,
            timeout: Some(crate::DEFAULT_AWAIT_TIMEOUT),
            on_timeout: OnTimeout::Exit,
        }
    }
}

impl StreamOptions {
    /// Sets `max_concurrency`.
    pub fn max_concurrency(mut self, max_concurrency: usize) -> Self {
        self.max_concurrency = max_concurrency;
        self
    }

    /// Sets `ordered`.
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.ordered = ordered;
        self
    }

    /// Sets the per-item timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Lets every task run as long as it takes (Elixir's `timeout: :infinity`).
    pub fn no_timeout(mut self) -> Self {
        self.timeout = None;
        self
    }

    /// Sets what a timeout does.
    pub fn on_timeout(mut self, on_timeout: OnTimeout) -> Self {
        self.on_timeout = on_timeout;
        self
    }

    fn validate(&self) -> Result<(), StreamOptionsError> {
        if self.max_concurrency == 0 {
            return Err(StreamOptionsError::ZeroConcurrency);
        }
        if self.timeout == Some(Duration::ZERO) {
            return Err(StreamOptionsError::ZeroTimeout);
        }
        Ok(())
    }
}

/// Where an [`AsyncStream`] starts its tasks.
#[derive(Debug)]
pub(crate) enum Spawner {
    /// Plain tokio tasks, owned by the stream.
    Local,
    /// Children of a task supervisor; `owner` is the server a crash is signalled to.
    Supervised {
        supervisor: TaskSupervisor,
        owner: Option<Pid>,
    },
}

/// The results of running a function on every item as concurrent tasks: a `Stream`.
///
/// Built by [`Task::async_stream`](crate::Task::async_stream),
/// [`TaskSupervisor::async_stream`] and [`TaskSupervisor::async_stream_nolink`]. Nothing
/// runs until it is polled. Then:
///
/// - at most `max_concurrency` tasks run at once; a task that finishes frees its slot at
///   once, even when its result waits for earlier ones in ordered mode;
/// - the input is read lazily: `max_concurrency` items at the start, then one more per
///   finished task, never more;
/// - each task's timeout counts from its own start, so a slow reader of the stream
///   causes no timeout;
/// - a linked stream ends after yielding a crashed item (the crash would take an Elixir
///   caller down); an unlinked one yields it and goes on;
/// - dropping the stream shuts down every task still running.
///
/// Each item is `Ok(result)` or an [`ItemError`] (Elixir's `{:ok, r}` / `{:exit, reason}`).
///
/// A per-item timeout needs tokio's time driver (`enable_time()` / `enable_all()`, as
/// `#[tokio::main]` builds); on a runtime without it, use
/// [`no_timeout`](StreamOptions::no_timeout).
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// use arbor_task::{StreamOptions, Task};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let lengths = Task::async_stream(["a", "bb", "ccc"], StreamOptions::default().max_concurrency(2), |word| async move {
///     word.len()
/// })?;
/// let lengths: Vec<usize> = lengths.map(|item| item.unwrap_or(0)).collect().await;
/// assert_eq!(lengths, [1, 2, 3]);
/// # Ok(())
/// # }
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct AsyncStream<It: Iterator, F, Fut: Future> {
    input: It,
    input_done: bool,
    f: F,
    /// Where the tasks run, found at the first start.
    runtime: Option<tokio::runtime::Handle>,
    options: StreamOptions,
    spawner: Spawner,
    /// Whether a crash ends the stream.
    linked: bool,
    /// Keeps a copy of each input for its error (`zip_input_on_exit`).
    zip: Option<CloneInput<It::Item>>,
    running: FuturesUnordered<Running<Fut::Output, It::Item>>,
    /// Results that wait for earlier ones (ordered mode); the front is `next_out`.
    waiting: VecDeque<Option<Item<Fut::Output, It::Item>>>,
    next_in: u64,
    next_out: u64,
    finished: bool,
}

/// One item's result.
type Item<T, I> = Result<T, ItemError<I>>;

/// Copies an input for its error report.
type CloneInput<I> = fn(&I) -> I;

impl<It, F, Fut> AsyncStream<It, F, Fut>
where
    It: Iterator,
    F: FnMut(It::Item) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    pub(crate) fn new(
        input: It,
        options: StreamOptions,
        f: F,
        spawner: Spawner,
        linked: bool,
    ) -> Result<Self, StreamOptionsError> {
        options.validate()?;
        Ok(AsyncStream {
            input,
            input_done: false,
            f,
            runtime: None,
            options,
            spawner,
            linked,
            zip: None,
            running: FuturesUnordered::new(),
            waiting: VecDeque::new(),
            next_in: 0,
            next_out: 0,
            finished: false,
        })
    }

    /// Puts the input of each failed item in its [`ItemError`] (Elixir's
    /// `zip_input_on_exit: true`). Each input is cloned before its task starts.
    pub fn zip_input_on_exit(mut self) -> Self
    where
        It::Item: Clone,
    {
        self.zip = Some(<It::Item as Clone>::clone);
        self
    }

    /// Starts the task for one input.
    fn start(&mut self, item: It::Item) {
        let input = self.zip.map(|clone| clone(&item));
        let runtime = match &self.runtime {
            Some(runtime) => runtime,
            None => match tokio::runtime::Handle::try_current() {
                Ok(runtime) => self.runtime.insert(runtime),
                Err(_) => {
                    self.halt();
                    let error = TaskError::NoRuntime;
                    self.waiting
                        .push_back(Some(Err(ItemError { error, input })));
                    return;
                }
            },
        };
        let work = (self.f)(item);
        let timeout = self.options.timeout;
        let handle = match &self.spawner {
            // The task's future and output stay small: tokio moves both several times
            // per task. A timeout is only `None` inside; it becomes an error out here.
            Spawner::Local => Joined::Local(match timeout {
                Some(limit) => {
                    runtime.spawn(async move { tokio::time::timeout(limit, work).await.ok() })
                }
                None => runtime.spawn(async move { Some(work.await) }),
            }),
            Spawner::Supervised { supervisor, owner } => {
                let supervisor = supervisor.clone();
                let owner = owner.clone();
                let work = timed(work, timeout);
                Joined::Supervised(runtime.spawn(async move {
                    // The handle kills the child if this task is aborted.
                    let task = supervisor
                        .spawn_task(work, owner, true)
                        .await
                        .map_err(TaskError::Start)?;
                    task.join().await?
                }))
            }
        };
        self.running.push(Running {
            index: self.next_in,
            handle,
            timeout,
            input,
        });
        self.next_in += 1;
    }

    /// Whether a failed item ends the stream.
    fn is_fatal(&self, error: &TaskError) -> bool {
        match error {
            TaskError::Timeout(_) => self.options.on_timeout == OnTimeout::Exit,
            _ => self.linked,
        }
    }

    /// Stops every running task; the stream yields nothing more.
    fn halt(&mut self) {
        self.running.clear();
        self.waiting.clear();
        self.finished = true;
    }

    /// Reads input into the free slots.
    fn fill(&mut self) {
        while !self.input_done
            && !self.finished
            && self.running.len() < self.options.max_concurrency
        {
            match self.input.next() {
                Some(item) => self.start(item),
                None => self.input_done = true,
            }
        }
    }
}

impl<It, F, Fut> Stream for AsyncStream<It, F, Fut>
where
    It: Iterator,
    F: FnMut(It::Item) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    type Item = Item<Fut::Output, It::Item>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(Some(_)) = this.waiting.front() {
                this.next_out += 1;
                return Poll::Ready(this.waiting.pop_front().flatten());
            }
            if this.finished {
                return Poll::Ready(None);
            }
            this.fill();
            let Some((index, result)) = std::task::ready!(this.running.poll_next_unpin(cx)) else {
                // Nothing runs, and `fill` found the input empty: every result is out.
                this.finished = true;
                continue;
            };
            if let Err(error) = &result {
                if this.is_fatal(&error.error) {
                    this.halt();
                    return Poll::Ready(Some(result));
                }
            }
            if !this.options.ordered || (index == this.next_out && this.waiting.is_empty()) {
                this.next_out += 1;
                return Poll::Ready(Some(result));
            }
            // Results already yielded never come back, so `index >= next_out`.
            let slot = (index - this.next_out) as usize;
            if this.waiting.len() <= slot {
                this.waiting.resize_with(slot + 1, || None);
            }
            this.waiting[slot] = Some(result);
        }
    }
}

/// Nothing in the stream is pinned in place: the input and the function are used by
/// value, and the running tasks live behind their join handles.
impl<It: Iterator, F, Fut: Future> Unpin for AsyncStream<It, F, Fut> {}

impl<It: Iterator, F, Fut: Future> std::fmt::Debug for AsyncStream<It, F, Fut> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncStream")
            .field("options", &self.options)
            .field("running", &self.running.len())
            .field("waiting", &self.waiting.len())
            .field("linked", &self.linked)
            .finish_non_exhaustive()
    }
}

/// Runs `work` within `timeout`, counted from the task's first poll, that is its start.
async fn timed<F: Future>(work: F, timeout: Option<Duration>) -> Result<F::Output, TaskError> {
    match timeout {
        Some(limit) => tokio::time::timeout(limit, work)
            .await
            .map_err(|_| TaskError::Timeout(limit)),
        None => Ok(work.await),
    }
}

/// One running task of a stream, with its place in the input. Dropping it shuts the task
/// down.
struct Running<T, I> {
    index: u64,
    handle: Joined<T>,
    /// The per-item limit, to name it in a timeout's error.
    timeout: Option<Duration>,
    input: Option<I>,
}

/// A running task's handle: a plain task answers `None` for a timeout; a supervised one
/// runs the whole exchange with its supervisor and answers the full error.
enum Joined<T> {
    Local(JoinHandle<Option<T>>),
    Supervised(JoinHandle<Result<T, TaskError>>),
    /// Its result was taken: nothing left to shut down.
    Done,
}

impl<T, I> Future for Running<T, I> {
    type Output = (u64, Item<T, I>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let result = match &mut self.handle {
            Joined::Local(handle) => match std::task::ready!(Pin::new(handle).poll(cx)) {
                Ok(Some(value)) => Ok(value),
                Ok(None) => Err(TaskError::Timeout(self.timeout.unwrap_or_default())),
                Err(error) => Err(crate::task::join_exit(error)),
            },
            Joined::Supervised(handle) => std::task::ready!(Pin::new(handle).poll(cx))
                .unwrap_or_else(|error| Err(crate::task::join_exit(error))),
            Joined::Done => Err(TaskError::AlreadyTaken),
        };
        self.handle = Joined::Done;
        let index = self.index;
        let input = self.input.take();
        Poll::Ready((index, result.map_err(|error| ItemError { error, input })))
    }
}

impl<T, I> Unpin for Running<T, I> {}

impl<T, I> Drop for Running<T, I> {
    fn drop(&mut self) {
        match &self.handle {
            Joined::Local(handle) => handle.abort(),
            Joined::Supervised(handle) => handle.abort(),
            Joined::Done => {}
        }
    }
}
