//! Runs a user callback so that its error or panic becomes a failure reason for the
//! messages it was given, instead of a crash of the stage.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;

use crate::pipeline::BoxError;

/// Awaits `callback`; an `Err` or a panic comes back as the reason to fail its messages.
pub(crate) async fn guarded(
    callback: impl Future<Output = Result<(), BoxError>>,
) -> Result<(), String> {
    // Unwind safety: on a panic, the messages the callback borrowed are only failed and
    // acknowledged, whatever state it left them in.
    match AssertUnwindSafe(callback).catch_unwind().await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(error.to_string()),
        Err(payload) => Err(format!("panic: {}", panic_text(payload.as_ref()))),
    }
}

fn panic_text(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "non-string panic payload"
    }
}
