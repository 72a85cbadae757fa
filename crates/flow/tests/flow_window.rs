//! Windows and triggers, with exact emitted snapshots (paused clock for time windows).

use std::sync::Arc;
use std::time::Duration;

use arbor_flow::{Flow, PartitionOptions, Punctuate, State, Trigger, Window, WindowId};
use futures::channel::mpsc;
use futures::SinkExt;

fn one_stage<T: std::hash::Hash + 'static>(window: Window<T>) -> PartitionOptions<T> {
    PartitionOptions::new().stages(1).window(window)
}

/// A one-stage sum that reports each trigger with its window.
fn sums_of(flow: Flow<u64>, window: Window<u64>) -> Flow<(WindowId, Trigger, u64), u64> {
    flow.partition(one_stage(window))
        .reduce(|| 0u64, |sum, n| sum + n)
        .on_trigger(|sum, _, info| (vec![(info.window, info.trigger.clone(), sum)], sum))
}

async fn sums(flow: Flow<u64>, window: Window<u64>) -> Vec<(WindowId, Trigger, u64)> {
    sums_of(flow, window).collect().await.unwrap()
}

#[tokio::test]
async fn trigger_every_checkpoints_then_done() {
    // Flow's documented example: every 10 items, then the final Done.
    let window = Window::global().trigger_every(10);
    let got = Flow::from_iter(1..=100u64)
        .partition(one_stage(window))
        .reduce(|| 0u64, |sum, n| sum + n)
        .emit(State)
        .collect()
        .await
        .unwrap();
    assert_eq!(
        got,
        vec![55, 210, 465, 820, 1275, 1830, 2485, 3240, 4095, 5050, 5050]
    );
}

#[tokio::test]
async fn count_windows_restart_from_a_fresh_accumulator() {
    let got = sums(Flow::from_iter(1..=25u64), Window::count(10)).await;
    assert_eq!(
        got,
        vec![
            (WindowId::Count(0), Trigger::Done, 55),
            (WindowId::Count(1), Trigger::Done, 155),
            (WindowId::Count(2), Trigger::Done, 115),
        ]
    );
    // A full last window is followed by an empty one, closed at the end (as Flow).
    let got = sums(Flow::from_iter(1..=20u64), Window::count(10)).await;
    assert_eq!(got.last(), Some(&(WindowId::Count(2), Trigger::Done, 0)));
}

#[tokio::test]
async fn windows_count_the_incoming_events_before_the_partition_filter() {
    // Count windows of 2 over 1..=6: [1,2] [3,4] [5,6] then the empty last window; the
    // filter runs after the window has counted.
    let got = Flow::from_iter(1..=6u64)
        .partition(one_stage(Window::count(2)))
        .filter(|n| n % 2 == 0)
        .reduce(|| 0u64, |sum, n| sum + n)
        .emit(State)
        .collect()
        .await
        .unwrap();
    assert_eq!(got, vec![2, 4, 6, 0]);
}

#[tokio::test]
async fn done_drops_on_triggers_accumulator_but_a_trigger_keeps_it() {
    // At a window's Done, the next window starts from init() whatever on_trigger returned.
    let got = Flow::from_iter(1..=4u64)
        .partition(one_stage(Window::count(2)))
        .reduce(|| 0u64, |sum, n| sum + n)
        .on_trigger(|sum, _, _| (vec![sum], sum + 100))
        .collect()
        .await
        .unwrap();
    assert_eq!(got, vec![3, 7, 0]);
    // Inside a window, the accumulator on_trigger returns is kept.
    let got = Flow::from_iter(1..=4u64)
        .partition(one_stage(Window::global().trigger_every(2)))
        .reduce(|| 0u64, |sum, n| sum + n)
        .on_trigger(|sum, _, _| (vec![sum], sum + 100))
        .collect()
        .await
        .unwrap();
    assert_eq!(got, vec![3, 110, 210]);
}

#[tokio::test]
async fn a_custom_trigger_cuts_where_it_says_and_on_trigger_sees_its_name() {
    let window = Window::global().trigger(
        || (),
        |events: &[u64], _| match events.iter().position(|n| *n == 0) {
            Some(at) => Punctuate::Trigger {
                at: at + 1,
                name: Arc::from("zero"),
            },
            None => Punctuate::Continue,
        },
    );
    let got = sums(Flow::from_iter([1u64, 2, 0, 3, 0, 4]), window).await;
    let zero = Trigger::Custom(Arc::from("zero"));
    assert_eq!(
        got,
        vec![
            (WindowId::Global, zero.clone(), 3),
            (WindowId::Global, zero, 6),
            (WindowId::Global, Trigger::Done, 10),
        ]
    );
}

type Timed = (i64, u64);

/// A one-stage fixed-window sum over `source`, one event per batch (`max_demand` 1), that
/// reports each trigger with its window.
fn fixed_sums_of(
    source: Flow<Timed>,
    window: Window<Timed>,
) -> Flow<(WindowId, Trigger, u64), Timed> {
    source
        .partition(
            PartitionOptions::by_key(|_: &Timed| 0)
                .stages(1)
                .max_demand(1)
                .min_demand(0)
                .window(window),
        )
        .reduce(|| 0u64, |sum, (_, v)| sum + v)
        .on_trigger(|sum, _, info| (vec![(info.window, info.trigger.clone(), sum)], sum))
}

async fn fixed_sums(window: Window<Timed>, events: Vec<Timed>) -> Vec<(WindowId, Trigger, u64)> {
    fixed_sums_of(Flow::from_iter(events), window)
        .collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn fixed_windows_close_when_the_producer_moves_past_them() {
    let window = Window::fixed(Duration::from_millis(10), |(t, _): &(i64, u64)| *t);
    let got = fixed_sums(window, vec![(0, 1), (5, 2), (12, 3), (31, 4)]).await;
    assert_eq!(
        got,
        vec![
            (WindowId::Fixed { start: 0 }, Trigger::Done, 3),
            (WindowId::Fixed { start: 10 }, Trigger::Done, 3),
            // No event fell in 20..30: the gap window closes empty, as in Flow.
            (WindowId::Fixed { start: 20 }, Trigger::Done, 0),
            (WindowId::Fixed { start: 30 }, Trigger::Done, 4),
        ]
    );
}

#[tokio::test]
async fn late_events_in_a_later_batch_are_dropped() {
    let window = Window::fixed(Duration::from_millis(10), |(t, _): &(i64, u64)| *t);
    // 3 arrives after the producer moved to window 10..20: window 0..10 is closed.
    let got = fixed_sums(window, vec![(0, 1), (15, 2), (3, 100)]).await;
    assert_eq!(
        got,
        vec![
            (WindowId::Fixed { start: 0 }, Trigger::Done, 1),
            (WindowId::Fixed { start: 10 }, Trigger::Done, 2),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn allowed_lateness_fires_a_watermark_then_done_after_the_lateness() {
    let window = Window::fixed(Duration::from_millis(10), |(t, _): &(i64, u64)| *t)
        .allowed_lateness(Duration::from_secs(1));
    let (mut tx, rx) = mpsc::unbounded::<Timed>();
    let mut out = fixed_sums_of(Flow::from_stream(rx), window)
        .into_stream()
        .await
        .unwrap();
    tx.send((0, 1)).await.unwrap();
    tx.send((15, 2)).await.unwrap();
    let zero = WindowId::Fixed { start: 0 };
    assert_eq!(
        out.next().await.unwrap().unwrap(),
        (zero, Trigger::Watermark, 1)
    );
    // Late, but within the allowed lateness: it still counts.
    tx.send((3, 100)).await.unwrap();
    // The lateness timer (paused clock: it fires once everything is idle) closes it.
    assert_eq!(
        out.next().await.unwrap().unwrap(),
        (zero, Trigger::Done, 101)
    );
    drop(tx);
    assert_eq!(
        out.next().await.unwrap().unwrap(),
        (WindowId::Fixed { start: 10 }, Trigger::Done, 2)
    );
    assert!(out.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn periodic_windows_close_on_their_timer() {
    let (mut tx, rx) = mpsc::unbounded::<u64>();
    let window = Window::periodic(Duration::from_secs(1));
    let mut out = sums_of(Flow::from_stream(rx), window)
        .into_stream()
        .await
        .unwrap();
    tx.send(1).await.unwrap();
    tx.send(2).await.unwrap();
    assert_eq!(
        out.next().await.unwrap().unwrap(),
        (WindowId::Periodic(0), Trigger::Done, 3)
    );
    tx.send(4).await.unwrap();
    drop(tx);
    assert_eq!(
        out.next().await.unwrap().unwrap(),
        (WindowId::Periodic(1), Trigger::Done, 4)
    );
    assert!(out.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn trigger_periodically_snapshots_the_open_window() {
    let (mut tx, rx) = mpsc::unbounded::<u64>();
    let window = Window::global().trigger_periodically(Duration::from_secs(5));
    let mut out = Flow::from_stream(rx)
        .partition(one_stage(window))
        .reduce(|| 0u64, |sum, n| sum + n)
        .on_trigger(|sum, _, info| (vec![(info.trigger.clone(), sum)], sum))
        .into_stream()
        .await
        .unwrap();
    tx.send(1).await.unwrap();
    tx.send(2).await.unwrap();
    let every = Trigger::Periodically(Duration::from_secs(5));
    assert_eq!(out.next().await.unwrap().unwrap(), (every, 3));
    tx.send(4).await.unwrap();
    drop(tx);
    assert_eq!(out.next().await.unwrap().unwrap(), (Trigger::Done, 7));
    assert!(out.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn a_silent_producer_holds_a_fixed_window_open() {
    // Two producers feed one stage; window 0..10 closes only once both have moved past it.
    let (mut fast_tx, fast) = mpsc::unbounded::<Timed>();
    let (mut slow_tx, slow) = mpsc::unbounded::<Timed>();
    let fast = arbor_stage::from_stream(fast).start().await.unwrap();
    let slow = arbor_stage::from_stream(slow).start().await.unwrap();
    let window = Window::fixed(Duration::from_millis(10), |(t, _): &Timed| *t);
    let mut out = Flow::from_stages([
        arbor_stage::SubscribeTo::stage(&fast),
        arbor_stage::SubscribeTo::stage(&slow),
    ])
    // The reduction runs in the stage that reads both producers.
    .stages(1)
    .max_demand(1)
    .min_demand(0)
    .window(window)
    .reduce(|| 0u64, |sum, (_, v)| sum + v)
    .on_trigger(|sum, _, info| (vec![(info.window, info.trigger.clone(), sum)], sum))
    .into_stream()
    .await
    .unwrap();
    fast_tx.send((1, 1)).await.unwrap();
    fast_tx.send((25, 2)).await.unwrap();
    // Nothing closes while the slow producer has said nothing: its next event is 3,
    // still in window 0, which is open.
    slow_tx.send((3, 10)).await.unwrap();
    slow_tx.send((12, 20)).await.unwrap();
    // Now both are past window 0: it closes with both producers' events.
    assert_eq!(
        out.next().await.unwrap().unwrap(),
        (WindowId::Fixed { start: 0 }, Trigger::Done, 11)
    );
    drop(fast_tx);
    drop(slow_tx);
    let rest: Vec<_> = [out.next().await, out.next().await]
        .into_iter()
        .map(|e| e.unwrap().unwrap())
        .collect();
    assert_eq!(
        rest,
        vec![
            (WindowId::Fixed { start: 10 }, Trigger::Done, 20),
            (WindowId::Fixed { start: 20 }, Trigger::Done, 2),
        ]
    );
    assert!(out.next().await.is_none());
}
