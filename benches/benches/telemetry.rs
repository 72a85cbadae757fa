//! Telemetry's cost on the per-message paths: the same work with no `metrics` recorder
//! installed (telemetry compiled in, as it always is) and with one, next to the raw
//! ractor leg, in the same criterion group and run.
//!
//! Scenarios (see `docs/benchmarks.md`, *Telemetry*, for figures):
//!
//! - `telemetry_call_ct`: one `Server::call` round trip — legs `no_recorder`, `recorder`,
//!   `raw_ractor` (`ractor::call!`).
//! - `telemetry_cast_ct`: 10^5 casts (10^4 quick) then one call — the same legs.
//! - `telemetry_pipeline_ct`: the `stage` bench's `stage_pipeline` (producer → consumer,
//!   10^7 events; 10^6 quick) — legs `no_recorder`, `recorder`, `raw_ractor`.
//!
//! Every group runs on a current-thread runtime: the recorder is installed for the bench
//! thread only (`metrics::set_default_local_recorder`), so that a global recorder, which
//! cannot be taken back, does not leak into the `no_recorder` legs; on one thread every
//! task sees it. The recorder is real but cheap: each handle it returns is an atomic, as a
//! Prometheus exporter's are, so the `recorder` legs measure arbor's side of the cost.
//!
//! ```text
//! cargo bench -p arbor-benches --bench telemetry
//! ARBOR_BENCH_QUICK=1 cargo bench -p arbor-benches --bench telemetry
//! ```

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arbor_actor::Server;
use arbor_benches::stage_scenarios::{run_once, Leg, Scenario};
use arbor_benches::{
    current_thread_runtime, raw_get, set_times, start_arbor, start_raw, Add, Get, RawMsg, Size,
};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};
use metrics::{
    Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use tokio::runtime::Runtime;

/// Casts per iteration of `telemetry_cast_ct`.
const CASTS: u64 = 100_000;

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    let ct = current_thread_runtime();
    call(&mut criterion, &ct);
    cast(&mut criterion, &ct);
    pipeline(&mut criterion, &ct);
    criterion.final_summary();
}

/// A recorder whose every handle is a fresh atomic: real increments, no registry.
#[derive(Debug, Default)]
struct AtomicRecorder;

/// A histogram that only sums what it records.
#[derive(Debug, Default)]
struct Sum(AtomicU64);

impl HistogramFn for Sum {
    fn record(&self, value: f64) {
        self.0.fetch_add(value as u64, Ordering::Relaxed);
    }
}

impl Recorder for AtomicRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(Arc::new(AtomicU64::new(0)))
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(Arc::new(AtomicU64::new(0)))
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::new(Sum::default()))
    }
}

/// The recorder the `recorder` legs install (static: the guard borrows it).
static RECORDER: AtomicRecorder = AtomicRecorder;

/// Runs `body` with the recorder installed on this thread.
fn recorded<R>(body: impl FnOnce() -> R) -> R {
    let _guard = metrics::set_default_local_recorder(&RECORDER);
    body()
}

/// Times `iters` runs of `once` on `rt`.
fn time_iters(rt: &Runtime, iters: u64, once: impl AsyncFn()) -> Duration {
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            once().await;
        }
        start.elapsed()
    })
}

/// The `no_recorder` and `recorder` legs of a server scenario, each on its own server
/// (started with the recorder for the second, so its handles are the recorder's).
fn server_legs(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    timed: impl Fn(Server<arbor_benches::Counter>, u64) -> Duration,
) {
    let plain = rt.block_on(start_arbor()).expect("start arbor");
    group.bench_function("no_recorder", |b| {
        b.iter_custom(|iters| timed(plain.clone(), iters))
    });
    let watched = recorded(|| rt.block_on(start_arbor())).expect("start arbor");
    group.bench_function("recorder", |b| {
        b.iter_custom(|iters| recorded(|| timed(watched.clone(), iters)))
    });
}

fn call(c: &mut Criterion, rt: &Runtime) {
    let mut group = c.benchmark_group("telemetry_call_ct");
    group.sample_size(50);
    set_times(&mut group, Duration::from_secs(1), Duration::from_secs(4));
    server_legs(&mut group, rt, |server, iters| {
        time_iters(rt, iters, async || {
            black_box(server.call(Get).await.expect("arbor call"));
        })
    });
    let raw = rt.block_on(start_raw()).expect("start raw ractor");
    group.bench_function("raw_ractor", |b| {
        b.iter_custom(|iters| {
            time_iters(rt, iters, async || {
                black_box(raw_get(&raw).await.expect("raw ractor call"));
            })
        })
    });
    group.finish();
}

fn cast(c: &mut Criterion, rt: &Runtime) {
    let casts = Size::of_run().pick(CASTS, CASTS / 10, 100);
    let mut group = c.benchmark_group("telemetry_cast_ct");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    set_times(&mut group, Duration::from_secs(1), Duration::from_secs(4));
    group.throughput(Throughput::Elements(casts));
    server_legs(&mut group, rt, |server, iters| {
        time_iters(rt, iters, async || {
            for _ in 0..casts {
                server.cast(Add(1)).expect("arbor cast");
            }
            black_box(server.call(Get).await.expect("arbor call"));
        })
    });
    let raw = rt.block_on(start_raw()).expect("start raw ractor");
    group.bench_function("raw_ractor", |b| {
        b.iter_custom(|iters| {
            time_iters(rt, iters, async || {
                for _ in 0..casts {
                    raw.cast(RawMsg::Add(1)).expect("raw ractor cast");
                }
                black_box(raw_get(&raw).await.expect("raw ractor call"));
            })
        })
    });
    group.finish();
}

fn pipeline(c: &mut Criterion, rt: &Runtime) {
    let events = Scenario::Pipeline.events(Size::of_run());
    let mut group = c.benchmark_group("telemetry_pipeline_ct");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    set_times(&mut group, Duration::from_secs(1), Duration::from_secs(6));
    group.throughput(Throughput::Elements(events));
    let runs = |leg: Leg, iters: u64| -> Duration {
        (0..iters)
            .map(|_| rt.block_on(run_once(leg, Scenario::Pipeline, events)))
            .sum()
    };
    group.bench_function("no_recorder", |b| {
        b.iter_custom(|iters| runs(Leg::Arbor, iters))
    });
    group.bench_function("recorder", |b| {
        b.iter_custom(|iters| recorded(|| runs(Leg::Arbor, iters)))
    });
    group.bench_function("raw_ractor", |b| {
        b.iter_custom(|iters| runs(Leg::RawRactor, iters))
    });
    group.finish();
}
