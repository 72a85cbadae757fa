//! The server whose callback a thread is running: lent to the thread for each poll, so
//! `Pid::current()` and the self-call check know who is asking.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::task::Poll;

use ractor::ActorId;

use crate::{Exit, Pid};

thread_local! {
    /// The server whose callback this thread is polling, if any. Its pid is moved in for
    /// each poll and back out after, so marking costs no reference count.
    static CURRENT_SERVER: std::cell::Cell<Option<Pid>> = const { std::cell::Cell::new(None) };
}

/// The server whose callback is running on this task, if any.
pub(crate) fn current_server() -> Option<ActorId> {
    CURRENT_SERVER.with(|current| {
        let pid = current.take();
        let id = pid.as_ref().map(Pid::id);
        current.set(pid);
        id
    })
}

/// The pid of the server whose callback is running on this task, if any.
pub(crate) fn current_pid() -> Option<Pid> {
    CURRENT_SERVER.with(|current| {
        let pid = current.take();
        let copy = pid.clone();
        current.set(pid);
        copy
    })
}

pin_project_lite::pin_project! {
    /// A server's callback, polled as that server: its pid lent to the thread and its
    /// span entered for each poll, a panic turned into [`Exit::Panic`].
    ///
    /// Written by hand rather than as an `async fn`: an `async fn` wrapper keeps its
    /// argument and the pinned copy of it side by side, doubling the callback's size at
    /// each wrapper, and ractor moves the whole handler future twice per message.
    pub(crate) struct Guarded<'a, F> {
        me: &'a mut Option<Pid>,
        span: Option<&'a tracing::Span>,
        #[pin]
        callback: F,
    }
}

/// Runs `callback` as the server whose pid `me` holds (see [`Guarded`]).
pub(crate) fn guarded<F: Future>(me: &mut Option<Pid>, callback: F) -> Guarded<'_, F> {
    Guarded {
        me,
        span: None,
        callback,
    }
}

/// [`guarded`], inside `span`: entered for each poll, left between polls, so the span
/// never covers another task's work.
pub(crate) fn guarded_in<'a, F: Future>(
    me: &'a mut Option<Pid>,
    span: &'a tracing::Span,
    callback: F,
) -> Guarded<'a, F> {
    Guarded {
        me,
        span: Some(span),
        callback,
    }
}

impl<F: Future> Future for Guarded<'_, F> {
    type Output = Result<F::Output, Exit>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.map(tracing::Span::enter);
        let mut callback = this.callback;
        let outer = CURRENT_SERVER.with(|current| current.replace(this.me.take()));
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| callback.as_mut().poll(cx)));
        **this.me = CURRENT_SERVER.with(|current| current.replace(outer));
        match polled {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(Exit::from_panic(payload))),
        }
    }
}
