//! arbor-flow (Elixir's Flow) against the peers a Rust user would pick for the same
//! data-parallel job, in the same criterion run.
//!
//! - `flow_airports`: open airports per country over OurAirports' full `airports.csv`
//!   (73,623 records, gunzipped once before the clock starts). Every leg does the same
//!   parse (the `csv` crate over chunks of whole records, `airports::data`) and the same
//!   count. Legs: `arbor` (the airports app's `flow_count`: a source cutting chunks, one
//!   parser per core counting its chunk, `partition` by country into 2 reducers adding
//!   the counts), `arbor_per_record` (`flow_reduce`, the book's step: every record
//!   partitioned and counted by the reducers), `raw_sequential` (one
//!   iterator fold), `raw_rayon` (`par_bridge` over the same chunks, `fold` + `reduce`
//!   merging the per-thread counts).
//! - `flow_airports_scaling`: the `arbor` leg with 1, 2 and 4 reducer stages.
//! - `flow_wordcount`: a word count over generated events (10 M; 1 M with
//!   `ARBOR_BENCH_QUICK=1`), one event per word id (`n * 7919 % 10 000`). Legs `arbor`
//!   (`from_iter` → `map` to the word → `partition` into 2 reducers → `reduce` into a
//!   map), `raw_rayon` (`into_par_iter` → `fold` + `reduce`), `raw_tokio` (a hand-written
//!   pipeline: a producer task sends batches of 1000 events round-robin over bounded
//!   channels to 2 counting tasks, whose maps are merged).
//!
//! Every leg runs on the bench runtime (2 workers) or rayon's global pool (2 threads on
//! this machine). `cargo test --benches` runs each leg once on small inputs.
//!
//! ```text
//! cargo bench -p arbor-benches --bench flow
//! ARBOR_BENCH_QUICK=1 cargo bench -p arbor-benches --bench flow
//! ```

use std::collections::HashMap;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use airports::data::{self, Tally};
use arbor_benches::wordcount::{self, word};
use arbor_benches::{median_ns, runtime, set_times, Size};
use criterion::{BenchmarkId, Criterion};
use rayon::prelude::*;
use tokio::runtime::Runtime;

fn load() -> Arc<[u8]> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/airports/data/airports.csv.gz");
    data::load(&path).expect("the airports data")
}

fn sequential(bytes: &[u8]) -> HashMap<String, usize> {
    airports::lazy(bytes).expect("well-formed data")
}

fn with_rayon(bytes: &Arc<[u8]>) -> HashMap<String, usize> {
    data::chunks(Arc::clone(bytes), airports::CHUNK)
        .par_bridge()
        .map(|chunk| chunk.tally())
        .reduce(Tally::default, Tally::merge)
        .into_counts()
        .expect("well-formed data")
}

fn airports_groups(c: &mut Criterion, rt: &Runtime, bytes: &Arc<[u8]>) {
    let expected = sequential(bytes);
    let flow = |stages| {
        let bytes = Arc::clone(bytes);
        rt.block_on(async move { airports::flow_count(bytes, stages).await.expect("the flow") })
    };
    let per_record = || {
        let bytes = Arc::clone(bytes);
        rt.block_on(async move { airports::flow_reduce(bytes, 2).await.expect("the flow") })
    };
    assert_eq!(flow(2), expected);
    assert_eq!(per_record(), expected);
    assert_eq!(with_rayon(bytes), expected);

    let mut group = c.benchmark_group("flow_airports");
    group.sample_size(20);
    set_times(&mut group, Duration::from_secs(1), Duration::from_secs(5));
    group.bench_function("arbor", |b| b.iter(|| black_box(flow(2))));
    group.bench_function("arbor_per_record", |b| b.iter(|| black_box(per_record())));
    group.bench_function("raw_sequential", |b| {
        b.iter(|| black_box(sequential(bytes)))
    });
    group.bench_function("raw_rayon", |b| b.iter(|| black_box(with_rayon(bytes))));
    group.finish();

    let mut group = c.benchmark_group("flow_airports_scaling");
    group.sample_size(20);
    set_times(&mut group, Duration::from_secs(1), Duration::from_secs(5));
    for stages in [1, 2, 4] {
        group.bench_with_input(BenchmarkId::new("arbor", stages), &stages, |b, &stages| {
            b.iter(|| black_box(flow(stages)));
        });
    }
    group.finish();
}

fn count_flow(rt: &Runtime, events: u64) -> HashMap<u64, u64> {
    rt.block_on(wordcount::count_flow(events))
        .expect("the flow")
}

fn count_rayon(events: u64) -> HashMap<u64, u64> {
    (0..events)
        .into_par_iter()
        .map(word)
        .fold(HashMap::new, |mut counts: HashMap<u64, u64>, word| {
            *counts.entry(word).or_default() += 1;
            counts
        })
        .reduce(HashMap::new, merge)
}

fn merge(mut a: HashMap<u64, u64>, b: HashMap<u64, u64>) -> HashMap<u64, u64> {
    for (word, n) in b {
        *a.entry(word).or_default() += n;
    }
    a
}

/// The hand-written tokio pipeline: a producer, two counters, bounded channels.
fn count_tokio(rt: &Runtime, events: u64) -> HashMap<u64, u64> {
    rt.block_on(async move {
        const BATCH: u64 = 1000;
        let mut senders = Vec::new();
        let mut counters = Vec::new();
        for _ in 0..2 {
            let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u64>>(4);
            senders.push(tx);
            counters.push(tokio::spawn(async move {
                let mut counts: HashMap<u64, u64> = HashMap::new();
                while let Some(batch) = rx.recv().await {
                    for n in batch {
                        *counts.entry(word(n)).or_default() += 1;
                    }
                }
                counts
            }));
        }
        let producer = tokio::spawn(async move {
            let mut start = 0;
            let mut next = 0;
            while start < events {
                let end = (start + BATCH).min(events);
                if senders[next].send((start..end).collect()).await.is_err() {
                    return;
                }
                next = (next + 1) % senders.len();
                start = end;
            }
        });
        producer.await.expect("the producer");
        let mut total = HashMap::new();
        for counter in counters {
            total = merge(total, counter.await.expect("a counter"));
        }
        total
    })
}

fn wordcount_group(c: &mut Criterion, rt: &Runtime, events: u64) {
    let expected = count_rayon(events);
    assert_eq!(count_flow(rt, events), expected);
    assert_eq!(count_tokio(rt, events), expected);
    let mut group = c.benchmark_group("flow_wordcount");
    group.sample_size(10);
    set_times(&mut group, Duration::from_secs(1), Duration::from_secs(10));
    group.bench_function("arbor", |b| b.iter(|| black_box(count_flow(rt, events))));
    group.bench_function("raw_rayon", |b| b.iter(|| black_box(count_rayon(events))));
    group.bench_function("raw_tokio", |b| {
        b.iter(|| black_box(count_tokio(rt, events)))
    });
    group.finish();
}

fn main() {
    let started = SystemTime::now();
    let args: Vec<String> = std::env::args().collect();
    let benching = args.iter().any(|arg| arg == "--bench");
    let events = Size::of_run().pick(10_000_000, 1_000_000, 10_000);
    let mut criterion = Criterion::default().configure_from_args();
    let rt = runtime();
    let bytes = load();
    airports_groups(&mut criterion, &rt, &bytes);
    wordcount_group(&mut criterion, &rt, events);
    criterion.final_summary();
    if benching {
        summary(started, events);
    }
}

/// Prints each leg's median and arbor's ratio to each peer (above 1: arbor is faster).
fn summary(since: SystemTime, events: u64) {
    println!("\nflow: medians of this run; ratio = the peer's time / arbor's time");
    let ms = |group: &str, leg: &str| median_ns(group, leg, since).map(|ns| ns / 1e6);
    if let Some(arbor) = ms("flow_airports", "arbor") {
        let mut line = format!("  flow_airports   arbor {arbor:.1} ms");
        for peer in ["arbor_per_record", "raw_sequential", "raw_rayon"] {
            if let Some(peer_ms) = ms("flow_airports", peer) {
                line += &format!("  {peer} {peer_ms:.1} ms (ratio {:.2})", peer_ms / arbor);
            }
        }
        println!("{line}");
    }
    let mut line = String::from("  flow_airports_scaling");
    for stages in [1, 2, 4] {
        if let Some(t) = ms("flow_airports_scaling", &format!("arbor/{stages}")) {
            line += &format!("  {stages} stages {t:.1} ms");
        }
    }
    println!("{line}");
    if let Some(arbor) = ms("flow_wordcount", "arbor") {
        let rate = |t: f64| events as f64 / t / 1e3;
        let mut line = format!(
            "  flow_wordcount  arbor {arbor:.0} ms ({:.1} M events/s)",
            rate(arbor)
        );
        for peer in ["raw_rayon", "raw_tokio"] {
            if let Some(peer_ms) = ms("flow_wordcount", peer) {
                line += &format!("  {peer} {peer_ms:.0} ms (ratio {:.2})", peer_ms / arbor);
            }
        }
        println!("{line}");
    }
}
