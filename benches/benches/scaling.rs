//! Scaling curves: how a cost grows as the work grows, arbor and its raw baseline measured
//! in the same run, point by point. Not criterion: a curve is many points, and criterion's
//! minimum time per point would make the suite slow. Each point is the median of a few
//! runs, the legs alternating run by run so that a change of load hits both.
//!
//! | curve | x | y | legs |
//! |---|---|---|---|
//! | `stage_events` | events through producer → consumer (demand 1000 / 500) | M events/s | arbor-stage, hand-written tokio credit pipeline |
//! | `stage_consumers` | consumers of one producer, `DemandDispatcher`, 10^6 events | M events/s | the same |
//! | `supervisor` | children started one after another, then stopped | µs per child, start and stop | `DynamicSupervisor`, raw ractor supervisor |
//! | `registry_lookup` | keys in the table, 1 thread | ns per lookup | `lookup`, `whereis`, raw `DashMap::get` + clone |
//! | `memory_idle` | idle actors, a fresh process per point | KB (1000 B) per actor | arbor `Server`, arbor consumer `Stage`, raw ractor actor |
//!
//! Each curve goes to `target/scaling/<curve>.json`; `cargo run -p arbor-benches --bin
//! bench-plot` draws them to `docs/scaling/<curve>.svg`.
//!
//! ```text
//! cargo bench -p arbor-benches --bench scaling                        # full: ~3.5 min
//! ARBOR_BENCH_QUICK=1 cargo bench -p arbor-benches --bench scaling    # quick: ~20 s
//! cargo bench -p arbor-benches --bench scaling -- stage memory        # only curves whose name contains one of these
//! cargo test -p arbor-benches --bench scaling                         # smoke: tiny sizes, nothing written
//! ```
//!
//! The workloads and both legs are the other benches' own (`arbor_benches::{stages,
//! pipeline, supervision, names}` and `spawn_idle`), so a curve's point at the other
//! bench's size measures the same thing.

use std::time::{Duration, Instant};

use arbor_actor::Server;
use arbor_benches::names::{key_at, Tables};
use arbor_benches::pipeline::{spawn_fan_out, sum_below, Credit, Route, Tally};
use arbor_benches::scaling::{load_average, utc_now, Curve, Point, Series};
use arbor_benches::stages::{arbor_fan_out, Numbers, Prepared};
use arbor_benches::supervision::{arbor_runner_with, arbor_stop, raw_runner_with, raw_stop, Idle};
use arbor_benches::{idle_child_main, idle_in_fresh_process, median, runtime, IdleLeg, Size};
use arbor_stage::{DemandMode, Stage, SubscribeOptions};
use tokio::runtime::Runtime;

/// Every curve, in run order. `memory_idle` runs before `supervisor`: after 10^6
/// children this process keeps their freed memory (glibc does not hand it back), which
/// would leave too little available for the memory curve's 10^6 point.
const CURVES: [&str; 5] = [
    "stage_events",
    "stage_consumers",
    "registry_lookup",
    "memory_idle",
    "supervisor",
];

/// One leg of a curve: what it measures and the series each of its runs feeds (a run may
/// yield several figures, as a supervisor's start and stop times).
struct Leg<L> {
    leg: L,
    /// `(series name, raw baseline?)`, one per figure a run returns.
    series: &'static [(&'static str, bool)],
}

/// Measures every leg at every `x`, `runs(x)` times, alternating the legs run by run, and
/// returns one series per figure with the median of each point. Prints each point.
fn measure<L: Copy>(
    legs: &[Leg<L>],
    xs: &[u64],
    runs: impl Fn(u64) -> usize,
    mut run: impl FnMut(L, u64) -> Vec<f64>,
) -> Vec<Series> {
    let mut series: Vec<Series> = legs
        .iter()
        .flat_map(|leg| leg.series)
        .map(|&(name, raw)| Series {
            leg: name.into(),
            raw,
            points: Vec::new(),
        })
        .collect();
    for &x in xs {
        let mut figures: Vec<Vec<f64>> = vec![Vec::new(); series.len()];
        for _ in 0..runs(x) {
            let mut index = 0;
            for leg in legs {
                let values = run(leg.leg, x);
                assert_eq!(values.len(), leg.series.len(), "one figure per series");
                for value in values {
                    figures[index].push(value);
                    index += 1;
                }
            }
        }
        let mut line = format!("  x = {x:>9}");
        for (series, runs) in series.iter_mut().zip(figures) {
            let y = median(runs.clone());
            line += &format!("   {} {y:.3}", series.leg);
            series.points.push(Point {
                x: x as f64,
                y,
                runs,
            });
        }
        println!("{line}");
    }
    series
}

/// "Median of k runs" for each point, as the curve's method says it.
fn runs_note(xs: &[u64], runs: impl Fn(u64) -> usize) -> String {
    let each: Vec<String> = xs.iter().map(|&x| format!("{}× at {x}", runs(x))).collect();
    format!("Each point is the median of its runs: {}.", each.join(", "))
}

/// `MemAvailable` of `/proc/meminfo`, bytes (0 when unknown, which skips the big points).
fn mem_available() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        })
        .unwrap_or(0)
}

/// Keeps the sizes whose estimated peak (`bytes_each` per unit, ×2 for headroom) fits in
/// the memory available now; says which it drops and why.
fn fitting(curve: &str, xs: &[u64], bytes_each: u64) -> Vec<u64> {
    let available = mem_available();
    xs.iter()
        .copied()
        .filter(|&x| {
            let fits = x * bytes_each * 2 <= available;
            if !fits {
                println!(
                    "  {curve}: skipping x = {x}: needs ~{:.1} GB, {:.1} GB available",
                    (x * bytes_each) as f64 / 1e9,
                    available as f64 / 1e9
                );
            }
            fits
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// the curves
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum StageLeg {
    Arbor,
    RawTokio,
}

const STAGE_LEGS: [Leg<StageLeg>; 2] = [
    Leg {
        leg: StageLeg::Arbor,
        series: &[("arbor", false)],
    },
    Leg {
        leg: StageLeg::RawTokio,
        series: &[("raw_tokio", true)],
    },
];

/// One timed run of producer → `consumers` consumers (`DemandDispatcher`, demand
/// 1000 / 500) moving `events` events, as the `stage` bench times it; M events/s.
fn stage_run(rt: &Runtime, leg: StageLeg, events: u64, consumers: usize) -> f64 {
    let elapsed = rt
        .block_on(rt.spawn(async move {
            let tally = Tally::new(events);
            let prepared = match leg {
                StageLeg::Arbor => {
                    let producer =
                        Stage::producer(Numbers, events).demand_mode(DemandMode::Accumulate);
                    let options = |_| SubscribeOptions::new().max_demand(1000).min_demand(500);
                    arbor_fan_out(producer, consumers, options, tally).await
                }
                StageLeg::RawTokio => {
                    let run =
                        spawn_fan_out(events, Route::Demand, consumers, Credit::DEFAULT, &tally.0);
                    Prepared::raw(run, tally)
                }
            };
            let label = format!("scaling/stage/{leg:?}/{events}/{consumers}");
            prepared.run(&label, sum_below(events)).await
        }))
        .expect("the measured task panicked");
    events as f64 / elapsed.as_secs_f64() / 1e6
}

fn stage_events(rt: &Runtime, size: Size) -> (Vec<Series>, String) {
    let xs = size.pick(
        &[10_000, 100_000, 1_000_000, 10_000_000][..],
        &[10_000, 100_000, 1_000_000][..],
        &[1_000, 10_000][..],
    );
    // Small runs are short and noisy: more of them.
    // Small runs are cheap but short and noisy: many of them.
    let runs = |events: u64| match (size, events) {
        (Size::Smoke, _) => 1,
        (Size::Quick, ..=10_000) => 15,
        (Size::Quick, _) => 7,
        (_, ..=10_000) => 31,
        (_, ..=100_000) => 15,
        (_, ..=1_000_000) => 9,
        _ => 5,
    };
    let series = measure(&STAGE_LEGS, xs, runs, |leg, events| {
        vec![stage_run(rt, leg, events, 1)]
    });
    let method = format!(
        "A fresh pipeline per run, built and subscribed with its producer closed (not timed); \
         the clock runs from opening the producer to the N-th event handled. {}",
        runs_note(xs, runs)
    );
    (series, method)
}

fn stage_consumers(rt: &Runtime, size: Size) -> (Vec<Series>, String) {
    let xs = size.pick(&[1, 2, 4, 8, 16][..], &[1, 2, 4, 8, 16][..], &[1, 2][..]);
    let events = size.pick(1_000_000, 1_000_000, 10_000);
    let runs = size.pick(11, 5, 1);
    let series = measure(
        &STAGE_LEGS,
        xs,
        |_| runs,
        |leg, consumers| vec![stage_run(rt, leg, events, consumers as usize)],
    );
    let method = format!(
        "{events} events per run from one producer to k consumers (DemandDispatcher; raw: \
         each ask answered to the consumer that asked), demand 1000 / 500. Timed as \
         stage_events. Median of {runs} runs per point."
    );
    (series, method)
}

#[derive(Debug, Clone, Copy)]
enum RegistryLeg {
    Lookup,
    Whereis,
    RawGet,
}

fn registry_lookup(rt: &Runtime, size: Size) -> (Vec<Series>, String) {
    const HOLDERS: usize = 8;
    let xs = size.pick(
        &[1_000, 10_000, 100_000, 1_000_000][..],
        &[1_000, 10_000, 100_000, 1_000_000][..],
        &[1_000][..],
    );
    let lookups: u64 = size.pick(2_000_000, 500_000, 1_000);
    let runs = size.pick(5, 3, 1);
    let holders: Vec<Server<Idle>> = rt.block_on(async {
        let mut holders = Vec::with_capacity(HOLDERS);
        for _ in 0..HOLDERS {
            holders.push(Server::start(Idle, ()).await.expect("start a holder"));
        }
        holders
    });
    let legs = [
        Leg {
            leg: RegistryLeg::Lookup,
            series: &[("arbor lookup", false)],
        },
        Leg {
            leg: RegistryLeg::Whereis,
            series: &[("arbor whereis", false)],
        },
        Leg {
            leg: RegistryLeg::RawGet,
            series: &[("raw dashmap get", true)],
        },
    ];
    // The tables of the current point, built once per point (not timed).
    let mut tables: Option<(u64, Tables)> = None;
    let series = measure(
        &legs,
        xs,
        |_| runs,
        |leg, keys| {
            if tables.as_ref().is_none_or(|(held, _)| *held != keys) {
                tables = None;
                tables = Some((keys, Tables::new(keys, &holders)));
            }
            let (_, tables) = tables.as_ref().expect("built above");
            let started = Instant::now();
            match leg {
                RegistryLeg::Lookup => (0..lookups).for_each(|i| tables.lookup(key_at(keys, 0, i))),
                RegistryLeg::Whereis => {
                    (0..lookups).for_each(|i| tables.whereis(key_at(keys, 0, i)))
                }
                RegistryLeg::RawGet => {
                    (0..lookups).for_each(|i| tables.raw_get(key_at(keys, 0, i)))
                }
            }
            vec![started.elapsed().as_nanos() as f64 / lookups as f64]
        },
    );
    drop(tables);
    let method = format!(
        "Keys 0..N, each held by one of {HOLDERS} idle servers; {lookups} lookups per run on \
         one thread, walking the keys with stride 7 (as the registry bench). Median of {runs} \
         runs per point."
    );
    (series, method)
}

#[derive(Debug, Clone, Copy)]
enum SupervisorLeg {
    Arbor,
    Raw,
}

fn supervisor(rt: &Runtime, size: Size) -> (Vec<Series>, String) {
    let xs = size.pick(
        &[1_000, 10_000, 100_000, 1_000_000][..],
        &[1_000, 10_000, 50_000][..],
        &[100][..],
    );
    // ~8 KB per child (an arbor child and its supervisor's bookkeeping; a raw ractor
    // actor is ~7 KB): 10^6 children need ~8 GB in each leg.
    let xs = fitting("supervisor", xs, 8_000);
    // 10^6 takes ~30 s a run; three runs still fit the full mode's budget.
    let runs = |children: u64| match (size, children) {
        (Size::Smoke, _) => 1,
        (_, ..=10_000) => 5,
        _ => 3,
    };
    let legs = [
        Leg {
            leg: SupervisorLeg::Arbor,
            series: &[("arbor start_child", false), ("arbor stop", false)],
        },
        Leg {
            leg: SupervisorLeg::Raw,
            series: &[("raw ractor spawn_linked", true), ("raw ractor stop", true)],
        },
    ];
    let series = measure(&legs, &xs, runs, |leg, children| {
        let n = children as usize;
        let (fill, stop) = rt.block_on(async {
            let filling = Instant::now();
            match leg {
                SupervisorLeg::Arbor => {
                    let runner = arbor_runner_with(n).await;
                    let fill = filling.elapsed();
                    let stopping = Instant::now();
                    arbor_stop(runner).await;
                    (fill, stopping.elapsed())
                }
                SupervisorLeg::Raw => {
                    let runner = raw_runner_with(n).await;
                    let fill = filling.elapsed();
                    let stopping = Instant::now();
                    raw_stop(runner).await;
                    (fill, stopping.elapsed())
                }
            }
        });
        let per_child = |time: Duration| time.as_secs_f64() * 1e6 / children as f64;
        vec![per_child(fill), per_child(stop)]
    });
    let method = "N children started one after another (arbor: DynamicSupervisor::start_child \
                  of a temporary idle GenServer; raw: a ractor supervisor spawn_linked-ing an \
                  idle actor per request), then the supervisor stopped with all of them (arbor: \
                  every child runs terminate; raw: stop_children_and_wait, then the \
                  supervisor).";
    let method = format!("{method} {}", runs_note(&xs, runs));
    (series, method)
}

fn memory_idle(_rt: &Runtime, size: Size) -> (Vec<Series>, String) {
    let xs = size.pick(
        &[1_000, 10_000, 100_000, 1_000_000][..],
        &[1_000, 10_000, 100_000][..],
        &[100][..],
    );
    // An idle stage is the largest of the three, ~10 KB: 10^6 need ~10 GB.
    let xs = fitting("memory_idle", xs, 10_000);
    let runs = |actors: u64| match (size, actors) {
        (Size::Smoke, _) => 1,
        (_, ..=10_000) => 5,
        (_, ..=100_000) => 3,
        _ => 1,
    };
    let legs = [
        Leg {
            leg: IdleLeg::Arbor,
            series: &[("arbor Server", false)],
        },
        Leg {
            leg: IdleLeg::ArborStage,
            series: &[("arbor consumer Stage", false)],
        },
        Leg {
            leg: IdleLeg::RawRactor,
            series: &[("raw ractor actor", true)],
        },
    ];
    let series = measure(&legs, &xs, runs, |leg, actors| {
        let run = idle_in_fresh_process(leg, actors as usize)
            .unwrap_or_else(|| panic!("memory run {} × {actors} failed", leg.name()));
        // KB = 1000 bytes, as in shared/anchors/FIGURES.md.
        vec![run.bytes / 1000.0]
    });
    let method = "A fresh process per run: start and stop one actor, then spawn N idle ones one \
                  after another; y is the growth of VmRSS over the spawns divided by N (the \
                  actor bench's memory probe).";
    let method = format!("{method} {}", runs_note(&xs, runs));
    (series, method)
}

// ---------------------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------------------

/// `(title, x label, y label)` of a curve.
fn labels(curve: &str) -> (&'static str, &'static str, &'static str) {
    match curve {
        "stage_events" => (
            "GenStage producer → consumer: throughput vs events",
            "events per run",
            "M events/s",
        ),
        "stage_consumers" => (
            "GenStage producer → k consumers (DemandDispatcher), 10⁶ events",
            "consumers",
            "M events/s",
        ),
        "registry_lookup" => (
            "Registry lookup (1 thread) vs keys in the table",
            "keys",
            "ns per lookup",
        ),
        "supervisor" => (
            "DynamicSupervisor: start N children, then stop them",
            "children",
            "µs per child",
        ),
        "memory_idle" => (
            "Memory per idle actor (RSS growth / N)",
            "idle actors",
            "KB per actor (1 KB = 1000 B)",
        ),
        _ => unreachable!("unknown curve {curve}"),
    }
}

fn main() {
    if idle_child_main() {
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "--list") {
        return;
    }
    let filters: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let size = Size::of_run();
    let rt = runtime();
    let suite = Instant::now();
    for name in CURVES {
        if !filters.is_empty() && !filters.iter().any(|filter| name.contains(filter)) {
            continue;
        }
        let (load, date, started) = (load_average(), utc_now(), Instant::now());
        println!("{name} ({} mode, load average {load})", size.name());
        let (series, method) = match name {
            "stage_events" => stage_events(&rt, size),
            "stage_consumers" => stage_consumers(&rt, size),
            "registry_lookup" => registry_lookup(&rt, size),
            "supervisor" => supervisor(&rt, size),
            "memory_idle" => memory_idle(&rt, size),
            _ => unreachable!("CURVES lists only these"),
        };
        let (title, x_label, y_label) = labels(name);
        let curve = Curve {
            name: name.into(),
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            mode: size.name().into(),
            date,
            load_average: load,
            seconds: started.elapsed().as_secs_f64(),
            method,
            legs: series,
        };
        println!("  {:.1} s", curve.seconds);
        // A smoke run (cargo test) must not overwrite the figures of a real run.
        if size != Size::Smoke {
            let path = curve.save().expect("save the curve");
            println!("  wrote {}", path.display());
        }
    }
    println!(
        "scaling: {} mode in {:.1} s",
        size.name(),
        suite.elapsed().as_secs_f64()
    );
}
