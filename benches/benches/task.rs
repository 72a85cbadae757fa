//! arbor-task (Elixir's `Task`) against raw tokio doing the same work, in the same
//! criterion group and run.
//!
//! - `task_spawn_await`: N = 1000 tasks one after another, each started and awaited
//!   before the next (`Task.async(fn -> x end) |> Task.await()` in Elixir). Legs `arbor`
//!   (`Task::spawn(async { x }).await`, with its 5 s default timeout), `raw_tokio`
//!   (`tokio::spawn(async { x }).await`, no timer) and `raw_tokio_timeout`
//!   (`tokio::time::timeout(5 s, tokio::spawn(..))`: the same timer as arbor's await);
//!   `arbor_untimed` (`await_timeout(Duration::MAX)`, Elixir's `:infinity`: no timer) is
//!   `raw_tokio`'s twin.
//! - `async_stream` (ordered, Elixir's default) and `async_stream_unordered`: 100 000
//!   trivial items (`x.wrapping_mul(3)`), at max_concurrency 1, 2 and 64 (the benchmark
//!   parameter). Legs `arbor` (`Task::async_stream` with its 5 s per-item timeout),
//!   `arbor_untimed` (the same with `no_timeout()`), `raw_spawn`
//!   (`stream::iter(..).map(|x| tokio::spawn(..)).buffered(n)`, or `buffer_unordered(n)`:
//!   one tokio task per item, as `async_stream` does and as Elixir spawns a process per
//!   item; `arbor_untimed`'s twin), `raw_spawn_timeout` (the same, each task's work under
//!   `tokio::time::timeout(5 s, ..)`: `arbor`'s twin) and `raw_inline` (the same
//!   `buffered` stream polling the futures inline, no task: the floor, what the work costs
//!   without any spawn).
//!
//! Every group runs on the two-worker runtime, then again on a current-thread runtime as
//! `<group>_ct` (the multi-thread figures are bimodal, the current-thread ones measure the
//! CPU cost). The measured loop is a task on the runtime, as in the other benches; each
//! stream is drained into a wrapping sum, checked against the expected one after the
//! clock stops. `ARBOR_BENCH_QUICK=1` streams 10 000 items; `cargo test --benches` runs
//! each leg once with 100 items and 10 tasks. At the end the bench prints each leg's
//! median rate and arbor's ratio to each raw leg.
//!
//! ```text
//! cargo bench -p arbor-benches --bench task
//! ARBOR_BENCH_QUICK=1 cargo bench -p arbor-benches --bench task
//! cargo bench -p arbor-benches --bench task -- async_stream_unordered
//! ```

use std::fmt::Debug;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::time::{Duration, Instant, SystemTime};

use arbor_benches::{current_thread_runtime, median_ns, runtime, set_times, Size};
use arbor_task::{StreamOptions, Task, DEFAULT_AWAIT_TIMEOUT};
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use futures::stream::{self, Stream, StreamExt};
use tokio::runtime::Runtime;
use tokio::task::JoinError;
use tokio::time::error::Elapsed;

/// The `max_concurrency` values of the `async_stream` groups: one task at a time (the
/// per-item round trip), the two workers, and a wide window.
const CONCURRENCY: [usize; 3] = [1, 2, 64];

/// Tasks spawned and awaited per iteration of `task_spawn_await`.
fn tasks(size: Size) -> u64 {
    size.pick(1_000, 1_000, 10)
}

/// Items per stream in the `async_stream` groups.
fn items(size: Size) -> u64 {
    size.pick(100_000, 10_000, 100)
}

/// Runs `body(iters)` as a task on `rt` and returns the time it measured: the caller is a
/// task sharing the workers with the tasks it spawns, as an Elixir caller is a process.
fn on_runtime<F, Fut>(rt: &Runtime, iters: u64, body: F) -> Duration
where
    F: FnOnce(u64) -> Fut,
    Fut: Future<Output = Duration> + Send + 'static,
{
    rt.block_on(rt.spawn(body(iters)))
        .expect("the measured task panicked")
}

// ---------------------------------------------------------------------------------------
// task_spawn_await
// ---------------------------------------------------------------------------------------

/// Times `iters` rounds of `tasks` tasks started and awaited one after another, each by
/// `spawn_await(x)` for the task returning `x`.
fn time_tasks<F, Fut>(rt: &Runtime, iters: u64, tasks: u64, spawn_await: F) -> Duration
where
    F: Fn(u64) -> Fut + Send + 'static,
    Fut: Future<Output = u64> + Send,
{
    on_runtime(rt, iters, move |iters| async move {
        let start = Instant::now();
        for _ in 0..iters {
            for x in 0..tasks {
                black_box(spawn_await(x).await);
            }
        }
        start.elapsed()
    })
}

fn task_spawn_await(c: &mut Criterion, name: &str, rt: &Runtime, size: Size) {
    let tasks = tasks(size);
    let mut group = c.benchmark_group(name);
    group.sample_size(20);
    group.sampling_mode(SamplingMode::Flat);
    set_times(&mut group, Duration::from_secs(1), Duration::from_secs(4));
    group.throughput(Throughput::Elements(tasks));

    group.bench_function("arbor", |b| {
        b.iter_custom(|iters| {
            time_tasks(rt, iters, tasks, |x| async move {
                Task::spawn(async move { x })
                    .await
                    .expect("arbor task result")
            })
        })
    });
    group.bench_function("arbor_untimed", |b| {
        b.iter_custom(|iters| {
            time_tasks(rt, iters, tasks, |x| async move {
                Task::spawn(async move { x })
                    .await_timeout(Duration::MAX)
                    .await
                    .expect("arbor task result")
            })
        })
    });
    group.bench_function("raw_tokio", |b| {
        b.iter_custom(|iters| {
            time_tasks(rt, iters, tasks, |x| async move {
                tokio::spawn(async move { x })
                    .await
                    .expect("tokio task joined")
            })
        })
    });
    group.bench_function("raw_tokio_timeout", |b| {
        b.iter_custom(|iters| {
            time_tasks(rt, iters, tasks, |x| async move {
                tokio::time::timeout(DEFAULT_AWAIT_TIMEOUT, tokio::spawn(async move { x }))
                    .await
                    .expect("tokio task in time")
                    .expect("tokio task joined")
            })
        })
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------
// async_stream
// ---------------------------------------------------------------------------------------

/// The work done on each item: trivial, so the figures are the cost of the machinery.
fn work(x: u64) -> u64 {
    x.wrapping_mul(3)
}

/// The wrapping sum of `work` over `0..items`: what every leg must yield, in any order.
fn expected_sum(items: u64) -> u64 {
    (0..items).fold(0, |sum, x| sum.wrapping_add(work(x)))
}

/// Reads every result of `results`, failing on the first error; returns their sum.
async fn drain<E: Debug>(results: impl Stream<Item = Result<u64, E>>) -> u64 {
    let mut results = pin!(results);
    let mut sum = 0_u64;
    while let Some(result) = results.next().await {
        sum = sum.wrapping_add(result.expect("a stream item failed"));
    }
    sum
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StreamLeg {
    Arbor,
    ArborUntimed,
    RawSpawn,
    RawSpawnTimeout,
    RawInline,
}

impl StreamLeg {
    const ALL: [StreamLeg; 5] = [
        StreamLeg::Arbor,
        StreamLeg::ArborUntimed,
        StreamLeg::RawSpawn,
        StreamLeg::RawSpawnTimeout,
        StreamLeg::RawInline,
    ];

    fn name(self) -> &'static str {
        match self {
            StreamLeg::Arbor => "arbor",
            StreamLeg::ArborUntimed => "arbor_untimed",
            StreamLeg::RawSpawn => "raw_spawn",
            StreamLeg::RawSpawnTimeout => "raw_spawn_timeout",
            StreamLeg::RawInline => "raw_inline",
        }
    }

    /// Streams `items` through `work` at `limit` and returns the sum of the results.
    async fn run(self, items: u64, limit: usize, ordered: bool) -> u64 {
        let arbor = |options: StreamOptions| {
            let options = options.max_concurrency(limit).ordered(ordered);
            Task::async_stream(0..items, options, |x| async move { work(x) })
                .expect("valid stream options")
        };
        let spawned = || stream::iter(0..items).map(|x| tokio::spawn(async move { work(x) }));
        let timed = || {
            stream::iter(0..items).map(|x| {
                tokio::spawn(tokio::time::timeout(DEFAULT_AWAIT_TIMEOUT, async move {
                    work(x)
                }))
            })
        };
        // A timeout is an error item, as arbor's is.
        let in_time = |joined: Result<Result<u64, Elapsed>, JoinError>| match joined {
            Ok(Ok(x)) => Ok(x),
            Ok(Err(elapsed)) => Err(elapsed.to_string()),
            Err(error) => Err(error.to_string()),
        };
        let inline = || stream::iter(0..items).map(|x| async move { work(x) });
        match (self, ordered) {
            (StreamLeg::Arbor, _) => drain(arbor(StreamOptions::default())).await,
            (StreamLeg::ArborUntimed, _) => {
                drain(arbor(StreamOptions::default().no_timeout())).await
            }
            (StreamLeg::RawSpawn, true) => drain(spawned().buffered(limit)).await,
            (StreamLeg::RawSpawn, false) => drain(spawned().buffer_unordered(limit)).await,
            (StreamLeg::RawSpawnTimeout, true) => drain(timed().buffered(limit).map(in_time)).await,
            (StreamLeg::RawSpawnTimeout, false) => {
                drain(timed().buffer_unordered(limit).map(in_time)).await
            }
            // `Ok::<_, ()>`: the same `Result` per item as the other legs read.
            (StreamLeg::RawInline, true) => drain(inline().buffered(limit).map(Ok::<_, ()>)).await,
            (StreamLeg::RawInline, false) => {
                drain(inline().buffer_unordered(limit).map(Ok::<_, ()>)).await
            }
        }
    }
}

fn async_stream(c: &mut Criterion, name: &str, ordered: bool, rt: &Runtime, size: Size) {
    let items = items(size);
    let expected = expected_sum(items);
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    set_times(&mut group, Duration::from_secs(1), Duration::from_secs(4));
    group.throughput(Throughput::Elements(items));
    for limit in CONCURRENCY {
        for leg in StreamLeg::ALL {
            group.bench_function(BenchmarkId::new(leg.name(), limit), |b| {
                b.iter_custom(|iters| {
                    on_runtime(rt, iters, move |iters| async move {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let start = Instant::now();
                            let sum = leg.run(items, limit, ordered).await;
                            total += start.elapsed();
                            assert_eq!(sum, expected, "{}: results lost or changed", leg.name());
                        }
                        total
                    })
                })
            });
        }
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------------------

fn all_groups(c: &mut Criterion, rt: &Runtime, suffix: &str, size: Size) {
    task_spawn_await(c, &format!("task_spawn_await{suffix}"), rt, size);
    async_stream(c, &format!("async_stream{suffix}"), true, rt, size);
    async_stream(
        c,
        &format!("async_stream_unordered{suffix}"),
        false,
        rt,
        size,
    );
}

fn main() {
    let started = SystemTime::now();
    let args: Vec<String> = std::env::args().collect();
    let benching = args.iter().any(|arg| arg == "--bench");
    let listing = args.iter().any(|arg| arg == "--list");
    let size = Size::of_run();

    let mut criterion = Criterion::default().configure_from_args();
    let mt2 = runtime();
    all_groups(&mut criterion, &mt2, "", size);
    drop(mt2);
    let ct = current_thread_runtime();
    all_groups(&mut criterion, &ct, "_ct", size);
    criterion.final_summary();
    if benching && !listing {
        ratio_summary(started, size);
    }
}

// ---------------------------------------------------------------------------------------
// ratios, read back from criterion's estimates
// ---------------------------------------------------------------------------------------

/// Prints each leg's median rate and arbor's ratios to the raw legs of the same group and
/// parameter (above 1: arbor is faster).
fn ratio_summary(since: SystemTime, size: Size) {
    println!("\ntask: medians of this run; ratio = arbor's rate / the raw leg's rate");
    for suffix in ["", "_ct"] {
        let group = format!("task_spawn_await{suffix}");
        let tasks = tasks(size) as f64;
        let leg = |leg: &str| median_ns(&group, leg, since).map(|ns| ns / tasks);
        if let (Some(arbor), Some(untimed), Some(raw), Some(timed)) = (
            leg("arbor"),
            leg("arbor_untimed"),
            leg("raw_tokio"),
            leg("raw_tokio_timeout"),
        ) {
            println!(
                "  {group:<26} arbor {arbor:>5.0} ns/task vs raw_tokio_timeout {timed:>5.0} ns (ratio {:.3})   arbor_untimed {untimed:>5.0} ns vs raw_tokio {raw:>5.0} ns (ratio {:.3})",
                timed / arbor,
                raw / untimed
            );
        }
    }
    let items = items(size) as f64;
    for (order, suffix) in ["", "_unordered"]
        .into_iter()
        .flat_map(|order| ["", "_ct"].map(|suffix| (order, suffix)))
    {
        let group = format!("async_stream{order}{suffix}");
        for limit in CONCURRENCY {
            // M items/s of a leg, from its median time per stream.
            let rate = |leg: StreamLeg| {
                median_ns(&group, &format!("{}/{limit}", leg.name()), since)
                    .map(|ns| items / ns * 1e3)
            };
            let mut line = format!("  {group:<26} {limit:>2}:");
            for leg in StreamLeg::ALL {
                if let Some(figure) = rate(leg) {
                    line += &format!("  {} {figure:>6.3} M/s", leg.name());
                }
            }
            // Each arbor leg against the raw leg doing the same work, and `arbor` against
            // the floor (the pairs bench-report prints).
            for (arbor, raw) in [
                (StreamLeg::Arbor, StreamLeg::RawSpawnTimeout),
                (StreamLeg::ArborUntimed, StreamLeg::RawSpawn),
                (StreamLeg::Arbor, StreamLeg::RawInline),
            ] {
                if let (Some(a), Some(r)) = (rate(arbor), rate(raw)) {
                    line += &format!("  {}/{} {:.3}", arbor.name(), raw.name(), a / r);
                }
            }
            println!("{line}");
        }
    }
}
