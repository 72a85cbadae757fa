//! arbor-actor against raw ractor (and raw tokio), in the same criterion group and run.
//!
//! Scenarios (see `benches/README.md` for parameters, `docs/benchmarks.md` for figures):
//!
//! - `actor_call`: one request, one `u64` reply — legs `arbor` (`Server::call`),
//!   `raw_ractor` (`ractor::call!`), `raw_ractor_timeout` (`ractor::call_t!` with arbor's
//!   5 s default timeout) and `raw_tokio` (mpsc + oneshot).
//! - `actor_cast`: 10^6 casts then one call, so every cast was handled — legs `arbor` and
//!   `raw_ractor`.
//! - memory per idle actor: printed once before criterion starts; each leg spawns 100k idle
//!   actors in a fresh child process and reports the RSS growth per actor.
//!
//! Every leg of `actor_call` and `actor_cast` runs on the same tokio multi-thread runtime
//! with 2 workers, built outside the measured closure. The client loop is itself a task on
//! that runtime (as a calling process is on the BEAM), so the caller and the actor share
//! the two workers; the runtime's `block_on` thread only waits for the loop's elapsed time.
//! Multi-thread figures are bimodal (caller and actor on one worker or on two), so the same
//! groups run again on a current-thread runtime as `actor_call_ct` and `actor_cast_ct`:
//! tight figures of the CPU cost per message, for a second view of the same ratios.
//!
//! ```text
//! cargo bench -p arbor-benches --bench actor
//! cargo bench -p arbor-benches --bench actor --features span-propagation
//! ARBOR_BENCH_QUICK=1 cargo bench -p arbor-benches --bench actor   # 10^5 casts, 10k actors
//! ARBOR_BENCH_MEMORY=0 cargo bench -p arbor-benches --bench actor  # skip the memory probe
//! ```

use std::future::Future;
use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use arbor_benches::{
    current_thread_runtime, idle_child_main, idle_in_fresh_process, median, median_ns, quick,
    raw_get, raw_get_timeout, runtime, set_times, start_arbor, start_raw, Add, Get, IdleLeg,
    IdleRun, RawMsg, TokioCounter,
};
use criterion::{Criterion, SamplingMode, Throughput};
use tokio::runtime::Runtime;

/// Casts per iteration of `actor_cast`.
const CASTS: u64 = 1_000_000;
/// Casts per iteration under `ARBOR_BENCH_QUICK=1`.
const CASTS_QUICK: u64 = 100_000;
/// Idle actors per memory run.
const IDLE: usize = 100_000;
/// Idle actors per memory run under `ARBOR_BENCH_QUICK=1`.
const IDLE_QUICK: usize = 10_000;
/// Memory runs per leg (fresh process each); the median is reported.
const MEMORY_RUNS: usize = 3;

/// `ARBOR_BENCH_MEMORY=0` skips the memory probe.
const MEMORY_ENV: &str = "ARBOR_BENCH_MEMORY";

fn main() {
    if idle_child_main() {
        return;
    }
    let started = SystemTime::now();
    let args: Vec<String> = std::env::args().collect();
    let benching = args.iter().any(|arg| arg == "--bench");
    let listing = args.iter().any(|arg| arg == "--list");
    let memory_off = std::env::var(MEMORY_ENV).is_ok_and(|value| value == "0");
    if benching && !listing && !memory_off {
        memory_report();
    }

    let mut criterion = Criterion::default().configure_from_args();
    let mt2 = runtime();
    actor_call(&mut criterion, "actor_call", &mt2);
    actor_cast(&mut criterion, "actor_cast", &mt2);
    drop(mt2);
    let ct = current_thread_runtime();
    actor_call(&mut criterion, "actor_call_ct", &ct);
    actor_cast(&mut criterion, "actor_cast_ct", &ct);
    criterion.final_summary();
    if benching && !listing {
        ratio_summary(started);
    }
}

/// Times `iters` sequential calls `$call` (which may use `$subject`, a clone of `$source`)
/// in a task on the bench runtime. A macro rather than a function: the call's future
/// borrows the subject, which a closure bound cannot express on stable Rust.
macro_rules! time_calls {
    ($rt:expr, $iters:expr, $subject:ident = $source:expr, $call:expr) => {{
        let $subject = $source;
        on_runtime($rt, $iters, move |iters| async move {
            let start = Instant::now();
            for _ in 0..iters {
                black_box($call);
            }
            start.elapsed()
        })
    }};
}

/// Runs `body(iters)` as a task on the bench runtime and returns the time it measured.
fn on_runtime<F, Fut>(rt: &Runtime, iters: u64, body: F) -> Duration
where
    F: FnOnce(u64) -> Fut,
    Fut: Future<Output = Duration> + Send + 'static,
{
    rt.block_on(rt.spawn(body(iters)))
        .expect("the measured task panicked")
}

// ---------------------------------------------------------------------------------------
// actor_call
// ---------------------------------------------------------------------------------------

fn actor_call(c: &mut Criterion, name: &str, rt: &Runtime) {
    let mut group = c.benchmark_group(name);
    group.sample_size(50);
    set_times(&mut group, Duration::from_secs(1), Duration::from_secs(4));

    let arbor = rt.block_on(start_arbor()).expect("start arbor");
    group.bench_function("arbor", |b| {
        b.iter_custom(|iters| {
            time_calls!(
                rt,
                iters,
                server = arbor.clone(),
                server.call(Get).await.expect("arbor call")
            )
        })
    });

    // The same call with no limit arms no timer: the like-for-like leg for `raw_ractor`.
    group.bench_function("arbor_untimed", |b| {
        b.iter_custom(|iters| {
            time_calls!(
                rt,
                iters,
                server = arbor.clone(),
                server
                    .call_timeout(Get, Duration::MAX)
                    .await
                    .expect("arbor untimed call")
            )
        })
    });

    let raw = rt.block_on(start_raw()).expect("start raw ractor");
    group.bench_function("raw_ractor", |b| {
        b.iter_custom(|iters| {
            time_calls!(
                rt,
                iters,
                actor = raw.clone(),
                raw_get(&actor).await.expect("raw ractor call")
            )
        })
    });

    group.bench_function("raw_ractor_timeout", |b| {
        b.iter_custom(|iters| {
            time_calls!(
                rt,
                iters,
                actor = raw.clone(),
                raw_get_timeout(&actor).await.expect("raw ractor call_t")
            )
        })
    });

    let tokio_counter = rt.block_on(async { TokioCounter::start() });
    group.bench_function("raw_tokio", |b| {
        b.iter_custom(|iters| {
            time_calls!(
                rt,
                iters,
                counter = tokio_counter.clone(),
                counter.get().await.expect("tokio call")
            )
        })
    });
    group.finish();

    rt.block_on(async {
        let _ = arbor
            .stop_and_wait(arbor_actor::Exit::Normal, Duration::from_secs(5))
            .await;
        let _ = raw.stop_and_wait(None, Some(Duration::from_secs(5))).await;
    });
    drop(tokio_counter);
}

// ---------------------------------------------------------------------------------------
// actor_cast
// ---------------------------------------------------------------------------------------

fn actor_cast(c: &mut Criterion, name: &str, rt: &Runtime) {
    let casts = if quick() { CASTS_QUICK } else { CASTS };
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    set_times(&mut group, Duration::from_secs(1), Duration::from_secs(6));
    group.throughput(Throughput::Elements(casts));

    let arbor = rt.block_on(start_arbor()).expect("start arbor");
    group.bench_function("arbor", |b| {
        b.iter_custom(|iters| {
            let server = arbor.clone();
            on_runtime(rt, iters, move |iters| async move {
                let start = Instant::now();
                for _ in 0..iters {
                    for _ in 0..casts {
                        server.cast(Add(1)).expect("arbor cast");
                    }
                    black_box(server.call(Get).await.expect("arbor call"));
                }
                start.elapsed()
            })
        })
    });

    let raw = rt.block_on(start_raw()).expect("start raw ractor");
    group.bench_function("raw_ractor", |b| {
        b.iter_custom(|iters| {
            let actor = raw.clone();
            on_runtime(rt, iters, move |iters| async move {
                let start = Instant::now();
                for _ in 0..iters {
                    for _ in 0..casts {
                        actor.cast(RawMsg::Add(1)).expect("raw ractor cast");
                    }
                    black_box(raw_get(&actor).await.expect("raw ractor call"));
                }
                start.elapsed()
            })
        })
    });
    group.finish();

    rt.block_on(async {
        let _ = arbor
            .stop_and_wait(arbor_actor::Exit::Normal, Duration::from_secs(5))
            .await;
        let _ = raw.stop_and_wait(None, Some(Duration::from_secs(5))).await;
    });
}

// ---------------------------------------------------------------------------------------
// memory per idle actor (outside criterion)
// ---------------------------------------------------------------------------------------

/// Spawns the idle actors of each leg in fresh processes (alternating legs) and prints the
/// medians and the arbor/raw ratio.
fn memory_report() {
    let count = if quick() { IDLE_QUICK } else { IDLE };
    println!(
        "memory: {count} idle actors per leg, {MEMORY_RUNS} runs per leg, each in a fresh process"
    );
    let mut runs: Vec<(IdleLeg, IdleRun)> = Vec::new();
    for round in 0..MEMORY_RUNS {
        for leg in IdleLeg::ALL {
            if let Some(run) = idle_in_fresh_process(leg, count) {
                println!(
                    "memory run {round}: {:<10} {:>7.0} B/actor, spawn {:>6.0} ns/actor",
                    leg.name(),
                    run.bytes,
                    run.spawn_ns
                );
                runs.push((leg, run));
            }
        }
    }
    let medians = |leg: IdleLeg| {
        let of_leg = runs.iter().filter(|(l, _)| *l == leg);
        (
            median(of_leg.clone().map(|(_, run)| run.bytes).collect()),
            median(of_leg.map(|(_, run)| run.spawn_ns).collect()),
        )
    };
    let (arbor_bytes, arbor_spawn) = medians(IdleLeg::Arbor);
    let (raw_bytes, raw_spawn) = medians(IdleLeg::RawRactor);
    // KB = 1000 bytes, as in shared/anchors/FIGURES.md.
    println!(
        "memory per idle actor: arbor {:.2} KB, raw ractor {:.2} KB, ratio {:.3}",
        arbor_bytes / 1000.0,
        raw_bytes / 1000.0,
        arbor_bytes / raw_bytes
    );
    println!(
        "spawn per actor: arbor {:.2} µs, raw ractor {:.2} µs, ratio {:.3}",
        arbor_spawn / 1000.0,
        raw_spawn / 1000.0,
        arbor_spawn / raw_spawn
    );
}

// ---------------------------------------------------------------------------------------
// ratios, read back from criterion's estimates
// ---------------------------------------------------------------------------------------

/// Prints each leg's median and its ratio to the `raw_ractor` leg of the same group.
fn ratio_summary(since: SystemTime) {
    let casts = if quick() { CASTS_QUICK } else { CASTS } as f64;
    println!("\nratios (medians of this run; the baseline is raw_ractor of the same group)");
    let call_legs = &[
        "arbor",
        "arbor_untimed",
        "raw_ractor",
        "raw_ractor_timeout",
        "raw_tokio",
    ][..];
    let cast_legs = &["arbor", "raw_ractor"][..];
    for (group, legs) in [
        ("actor_call", call_legs),
        ("actor_cast", cast_legs),
        ("actor_call_ct", call_legs),
        ("actor_cast_ct", cast_legs),
    ] {
        let Some(base) = median_ns(group, "raw_ractor", since) else {
            continue;
        };
        for leg in legs {
            let Some(ns) = median_ns(group, leg, since) else {
                continue;
            };
            if group.starts_with("actor_cast") {
                let rate = casts / (ns / 1e9) / 1e6;
                let base_rate = casts / (base / 1e9) / 1e6;
                println!(
                    "  {group}/{leg:<20} {rate:>8.2} M msg/s   throughput ratio {:.3}",
                    rate / base_rate
                );
            } else {
                println!(
                    "  {group}/{leg:<20} {ns:>8.0} ns        time ratio {:.3}",
                    ns / base
                );
            }
        }
    }
    println!("\nlike for like (each arbor call against the raw call doing the same work)");
    for group in ["actor_call", "actor_call_ct"] {
        for (arbor, raw) in [
            ("arbor", "raw_ractor_timeout"),
            ("arbor_untimed", "raw_ractor"),
        ] {
            if let (Some(a), Some(r)) =
                (median_ns(group, arbor, since), median_ns(group, raw, since))
            {
                println!("  {group}: {arbor} / {raw} = {:.3}", a / r);
            }
        }
    }
}
