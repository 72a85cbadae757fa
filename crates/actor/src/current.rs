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

/// Runs a callback as the server whose pid `me` holds, turning a panic into
/// [`Exit::Panic`]. The pid is lent to the thread for each poll and given back after.
pub(crate) async fn guarded<F: Future>(
    me: &mut Option<Pid>,
    callback: F,
) -> Result<F::Output, Exit> {
    let mut future = std::pin::pin!(callback);
    std::future::poll_fn(move |cx| {
        let outer = CURRENT_SERVER.with(|current| current.replace(me.take()));
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx)));
        *me = CURRENT_SERVER.with(|current| current.replace(outer));
        match polled {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(Exit::from_panic(payload))),
        }
    })
    .await
}
