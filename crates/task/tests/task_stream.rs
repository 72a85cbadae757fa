//! `async_stream`: concurrency cap, order, lazy input, timeouts, crashes, drop.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arbor_actor::Exit;
use arbor_supervisor::DynamicSupervisorOptions;
use arbor_task::{
    ItemError, OnTimeout, StreamOptions, StreamOptionsError, Task, TaskError, TaskSupervisor,
};
use futures::StreamExt;
use proptest::prelude::*;
use support::{sleep_ms, Gauge, Watch};

fn options(max_concurrency: usize) -> StreamOptions {
    StreamOptions::default().max_concurrency(max_concurrency)
}

#[tokio::test(start_paused = true)]
async fn ordered_results_come_in_input_order() {
    let delays = [50_u64, 10, 40, 20, 30, 0];
    let results: Vec<_> = Task::async_stream(delays, options(3), |ms| async move {
        sleep_ms(ms).await;
        ms
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
    .await;
    assert_eq!(results, delays);
}

#[tokio::test(start_paused = true)]
async fn unordered_results_come_in_completion_order() {
    let delays = [50_u64, 10, 40, 20];
    let results: Vec<_> = Task::async_stream(delays, options(4).ordered(false), |ms| async move {
        sleep_ms(ms).await;
        ms
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
    .await;
    assert_eq!(results, [10, 20, 40, 50]);
}

#[tokio::test(start_paused = true)]
async fn never_more_than_max_concurrency_tasks_run() {
    for ordered in [true, false] {
        let gauge = Gauge::default();
        let results = Task::async_stream(0..40_u64, options(3).ordered(ordered), |n| {
            let gauge = gauge.clone();
            async move {
                let _inside = gauge.enter();
                sleep_ms(1 + n % 7).await;
                n
            }
        })
        .unwrap()
        .count()
        .await;
        assert_eq!(results, 40);
        assert_eq!(gauge.peak(), 3, "ordered: {ordered}");
    }
}

#[tokio::test(start_paused = true)]
async fn input_is_read_only_as_slots_free_up() {
    let pulled = Arc::new(AtomicUsize::new(0));
    let input = {
        let pulled = Arc::clone(&pulled);
        (0..10_u64).inspect(move |_| {
            pulled.fetch_add(1, Ordering::SeqCst);
        })
    };
    let mut stream = Task::async_stream(input, options(2), |n| async move {
        sleep_ms(10 * (n + 1)).await;
        n
    })
    .unwrap();
    // Nothing is read before the stream is polled.
    assert_eq!(pulled.load(Ordering::SeqCst), 0);
    assert_eq!(stream.next().await.unwrap().unwrap(), 0);
    // Two at the start, one more when the first finished (read on the next poll).
    assert_eq!(pulled.load(Ordering::SeqCst), 2);
    assert_eq!(stream.next().await.unwrap().unwrap(), 1);
    assert_eq!(pulled.load(Ordering::SeqCst), 3);
    let rest: Vec<_> = stream.map(Result::unwrap).collect().await;
    assert_eq!(rest, (2..10).collect::<Vec<_>>());
    assert_eq!(pulled.load(Ordering::SeqCst), 10);
}

#[tokio::test(start_paused = true)]
async fn a_slow_head_does_not_stall_the_others_in_ordered_mode() {
    let started = tokio::time::Instant::now();
    let stream = Task::async_stream(0..5_u64, options(2), |n| async move {
        sleep_ms(if n == 0 { 100 } else { 10 }).await;
        n
    })
    .unwrap();
    let results: Vec<_> = stream.map(Result::unwrap).collect().await;
    assert_eq!(results, [0, 1, 2, 3, 4]);
    // The four quick items ran one after the other in the second slot while the head
    // slept: a finished item waiting for the head did not hold its slot, so the whole run
    // took the head's time, not the head's plus theirs.
    assert_eq!(started.elapsed(), Duration::from_millis(100));
}

#[tokio::test(start_paused = true)]
async fn a_timeout_counts_from_the_task_start_not_from_the_reader() {
    let mut stream = Task::async_stream(
        0..4_u64,
        options(4).timeout(Duration::from_millis(100)),
        |n| async move {
            sleep_ms(50).await;
            n
        },
    )
    .unwrap();
    let mut results = Vec::new();
    while let Some(item) = stream.next().await {
        results.push(item.unwrap());
        // A reader far slower than the timeout: the tasks finished long before.
        sleep_ms(1_000).await;
    }
    assert_eq!(results, [0, 1, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn on_timeout_exit_yields_the_timeout_and_ends_the_stream() {
    let watch = Watch::new();
    let results: Vec<_> = Task::async_stream(
        [10_u64, 500, 10_000],
        options(3).timeout(Duration::from_millis(100)),
        |ms| {
            let token = watch.token();
            async move {
                let _token = token;
                sleep_ms(ms).await;
                ms
            }
        },
    )
    .unwrap()
    .collect()
    .await;
    assert_eq!(results.len(), 2);
    assert_eq!(results[0], Ok(10));
    assert_eq!(
        results[1],
        Err(ItemError {
            error: TaskError::Timeout(Duration::from_millis(100)),
            input: None
        })
    );
    // The third task was shut down with the stream.
    watch.gone().await;
}

#[tokio::test(start_paused = true)]
async fn on_timeout_kill_task_yields_the_timeout_and_goes_on() {
    let results: Vec<_> = Task::async_stream(
        [10_u64, 500, 20],
        options(3)
            .timeout(Duration::from_millis(100))
            .on_timeout(OnTimeout::KillTask),
        |ms| async move {
            sleep_ms(ms).await;
            ms
        },
    )
    .unwrap()
    .zip_input_on_exit()
    .collect()
    .await;
    assert_eq!(
        results,
        [
            Ok(10),
            Err(ItemError {
                error: TaskError::Timeout(Duration::from_millis(100)),
                input: Some(500)
            }),
            Ok(20)
        ]
    );
}

#[tokio::test]
async fn a_crash_ends_a_linked_stream() {
    let results: Vec<_> =
        Task::async_stream(["ok", "boom", "never"], options(1), |word| async move {
            assert_ne!(word, "boom", "bad input");
            word
        })
        .unwrap()
        .zip_input_on_exit()
        .collect()
        .await;
    assert_eq!(results.len(), 2);
    assert_eq!(results[0], Ok("ok"));
    let Err(failed) = &results[1] else {
        panic!("expected the crash, got {:?}", results[1]);
    };
    assert_eq!(failed.input, Some("boom"));
    assert!(matches!(
        &failed.error,
        TaskError::Exited(Exit::Panic(message)) if message.contains("bad input")
    ));
}

#[tokio::test]
async fn an_unlinked_supervised_stream_goes_on_after_a_crash() {
    let supervisor = TaskSupervisor::start(DynamicSupervisorOptions::default())
        .await
        .unwrap();
    let results: Vec<_> = supervisor
        .async_stream_nolink(
            ["a@example.com", "konnichiwa@world.com", "c@example.com"],
            options(2),
            |to| async move {
                assert_ne!(to, "konnichiwa@world.com", "cannot send");
                to
            },
        )
        .unwrap()
        .collect()
        .await;
    assert_eq!(results[0], Ok("a@example.com"));
    assert!(matches!(
        &results[1],
        Err(ItemError {
            error: TaskError::Exited(Exit::Panic(_)),
            ..
        })
    ));
    assert_eq!(results[2], Ok("c@example.com"));
    // Every task was temporary: nothing is left under the supervisor.
    assert_eq!(supervisor.count_children().await.unwrap().active, 0);
}

#[tokio::test(start_paused = true)]
async fn a_supervised_stream_runs_its_tasks_as_children() {
    let supervisor = TaskSupervisor::start(DynamicSupervisorOptions::default())
        .await
        .unwrap();
    let gauge = Gauge::default();
    let mut stream = supervisor
        .async_stream(0..6_u64, options(2), |n| {
            let gauge = gauge.clone();
            async move {
                let _inside = gauge.enter();
                sleep_ms(10).await;
                n
            }
        })
        .unwrap();
    assert_eq!(stream.next().await, Some(Ok(0)));
    let rest: Vec<_> = stream.map(Result::unwrap).collect().await;
    assert_eq!(rest, [1, 2, 3, 4, 5]);
    assert_eq!(gauge.peak(), 2);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_stream_shuts_its_tasks_down() {
    for supervised in [false, true] {
        let supervisor = TaskSupervisor::start(DynamicSupervisorOptions::default())
            .await
            .unwrap();
        let watch = Watch::new();
        let gauge = Gauge::default();
        let work = |n: u64| {
            let token = watch.token();
            let gauge = gauge.clone();
            async move {
                let _token = token;
                let _inside = gauge.enter();
                sleep_ms(if n == 0 { 1 } else { 60_000 }).await;
                n
            }
        };
        let first = if supervised {
            let mut stream = supervisor
                .async_stream(0..10_u64, options(4), work)
                .unwrap();
            stream.next().await
        } else {
            let mut stream = Task::async_stream(0..10_u64, options(4), work).unwrap();
            stream.next().await
        };
        assert_eq!(first, Some(Ok(0)));
        // The stream is gone: every task it started is too.
        watch.gone().await;
        assert_eq!(gauge.now(), 0);
        if supervised {
            let left = supervisor.count_children().await.unwrap().active;
            assert_eq!(left, 0, "supervised tasks left running");
        }
    }
}

#[test]
fn options_that_cannot_work_are_refused() {
    let make = |options| Task::async_stream([1], options, |n| async move { n }).map(|_| ());
    assert_eq!(
        make(StreamOptions::default().max_concurrency(0)),
        Err(StreamOptionsError::ZeroConcurrency)
    );
    assert_eq!(
        make(StreamOptions::default().timeout(Duration::ZERO)),
        Err(StreamOptionsError::ZeroTimeout)
    );
    assert_eq!(make(StreamOptions::default().no_timeout()), Ok(()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever the concurrency, delays and order mode: the results are the sequential
    /// map's (in order when ordered, as a multiset otherwise), and the cap holds.
    #[test]
    fn results_equal_the_sequential_map(
        items in proptest::collection::vec((0_u64..1_000, 0_u64..20), 0..40),
        max_concurrency in 1_usize..8,
        ordered: bool,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        let gauge = Gauge::default();
        let results: Vec<u64> = runtime.block_on(async {
            Task::async_stream(items.clone(), options(max_concurrency).ordered(ordered), |(value, ms)| {
                let gauge = gauge.clone();
                async move {
                    let _inside = gauge.enter();
                    sleep_ms(ms).await;
                    value * 3
                }
            })
            .unwrap()
            .map(Result::unwrap)
            .collect()
            .await
        });
        let mut expected: Vec<u64> = items.iter().map(|(value, _)| value * 3).collect();
        let mut results = results;
        if !ordered {
            expected.sort_unstable();
            results.sort_unstable();
        }
        prop_assert_eq!(results, expected);
        prop_assert!(gauge.peak() <= max_concurrency);
    }
}
