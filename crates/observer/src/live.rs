//! The live view: while at least one page is open, one snapshot per interval, taken once
//! and sent to every open page as a server-sent event. Ten open pages cost the tree one
//! walk per interval, not ten; no page open, no walk.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use crate::routes::Shared;

/// The last snapshot published, as JSON (`None` before the first).
pub(crate) type Published = Option<Arc<str>>;

/// Publishes a snapshot every interval while a page listens, until the observer stops.
pub(crate) async fn publish(shared: Arc<Shared>) {
    let mut ticks = tokio::time::interval(shared.interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut stopping = shared.stopping.clone();
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stopping.wait_for(|stopping| *stopping) => return,
        }
        if shared.live.receiver_count() > 0 {
            let json = shared.snapshot_json().await;
            shared.live.send_replace(Some(json));
        }
    }
}

/// `GET /api/events`: a snapshot of its own at once (a page opened between two updates
/// draws without waiting), then every one published, until the observer stops.
pub(crate) async fn events(
    State(shared): State<Arc<Shared>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Subscribed before the first snapshot is taken: nothing published after it is missed.
    let updates = shared.live.subscribe();
    let first = shared.snapshot_json().await;
    Sse::new(stream::unfold((shared, updates, Some(first)), next_event))
        .keep_alive(KeepAlive::default())
}

type Listener = (Arc<Shared>, watch::Receiver<Published>, Option<Arc<str>>);

async fn next_event(
    (shared, mut updates, first): Listener,
) -> Option<(Result<Event, Infallible>, Listener)> {
    let json = match first {
        Some(json) => json,
        None => next_published(&shared, &mut updates).await?,
    };
    let event = Event::default().event("snapshot").data(&*json);
    Some((Ok(event), (shared, updates, None)))
}

/// The next snapshot published, or `None` once the observer stops.
async fn next_published(
    shared: &Shared,
    updates: &mut watch::Receiver<Published>,
) -> Option<Arc<str>> {
    let mut stopping = shared.stopping.clone();
    loop {
        tokio::select! {
            changed = updates.changed() => changed.ok()?,
            _ = stopping.wait_for(|stopping| *stopping) => return None,
        }
        if let Some(json) = updates.borrow_and_update().clone() {
            return Some(json);
        }
    }
}
