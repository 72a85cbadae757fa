//! Registry benches, each against raw `dashmap` doing the same work in the same run:
//!
//! - `registry_lookup_hot` / `registry_lookup_1m`: look keys up, cycling through a hot set
//!   of 16 keys or through 1 000 000 keys (100 000 with `ARBOR_BENCH_QUICK=1`), from 1
//!   and 2 threads. arbor `Registry::lookup` (returns a `Lookup` of (pid, value)) and
//!   `Registry::whereis` (returns the pid) vs raw `DashMap<u64, ActorCell>::get` plus a
//!   clone of the cell: what a hand-rolled name table does.
//! - `registry_register`: register a key then unregister it, from 1 and 2 threads (each
//!   thread its own keys). arbor `register` + `unregister` vs raw `insert` + `remove`.
//!
//! Every key is held by one of 8 idle arbor servers; the raw map holds their cells. The
//! threads are plain OS threads: registry reads and writes never go through a mailbox.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use arbor_actor::Server;
use arbor_benches::names::{key_at, Tables};
use arbor_benches::supervision::Idle;
use arbor_benches::{quick, runtime, set_times};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const HOLDERS: usize = 8;
const HOT: u64 = 16;

fn big() -> u64 {
    if quick() {
        100_000
    } else {
        1_000_000
    }
}

/// Runs `work(thread, iterations)` on `threads` OS threads, splitting `iters` between
/// them, and returns the wall time from a common start.
fn on_threads(threads: u64, iters: u64, work: impl Fn(u64, u64) + Sync) -> Duration {
    let start_line = Barrier::new(threads as usize + 1);
    std::thread::scope(|scope| {
        for thread in 0..threads {
            let (work, start_line) = (&work, &start_line);
            scope.spawn(move || {
                start_line.wait();
                work(thread, iters / threads);
            });
        }
        start_line.wait();
        let start = Instant::now();
        // Scoped threads are joined when the scope ends, before the elapsed time is read.
        start
    })
    .elapsed()
}

fn lookup_group(c: &mut Criterion, name: &str, keys: u64, holders: &[Server<Idle>]) {
    let tables = Tables::new(keys, holders);
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(1));
    set_times(&mut group, Duration::from_secs(3), Duration::from_secs(3));
    let key = move |thread: u64, i: u64| key_at(keys, thread, i);
    for threads in [1_u64, 2] {
        group.bench_with_input(
            BenchmarkId::new("arbor_lookup", threads),
            &threads,
            |b, &t| {
                b.iter_custom(|iters| {
                    on_threads(t, iters, |thread, n| {
                        for i in 0..n {
                            tables.lookup(key(thread, i));
                        }
                    })
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("arbor_whereis", threads),
            &threads,
            |b, &t| {
                b.iter_custom(|iters| {
                    on_threads(t, iters, |thread, n| {
                        for i in 0..n {
                            tables.whereis(key(thread, i));
                        }
                    })
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("raw_dashmap_get", threads),
            &threads,
            |b, &t| {
                b.iter_custom(|iters| {
                    on_threads(t, iters, |thread, n| {
                        for i in 0..n {
                            tables.raw_get(key(thread, i));
                        }
                    })
                })
            },
        );
    }
    group.finish();
}

fn register_group(c: &mut Criterion, holders: &[Server<Idle>]) {
    let tables = Tables::new(0, holders);
    let mut group = c.benchmark_group("registry_register");
    group.throughput(Throughput::Elements(1));
    set_times(&mut group, Duration::from_secs(3), Duration::from_secs(3));
    for threads in [1_u64, 2] {
        group.bench_with_input(BenchmarkId::new("arbor", threads), &threads, |b, &t| {
            b.iter_custom(|iters| {
                on_threads(t, iters, |thread, n| {
                    let pid = &tables.pids[thread as usize];
                    for i in 0..n {
                        let key = thread << 40 | i;
                        tables
                            .registry
                            .register(key, pid.clone(), ())
                            .expect("own key registers");
                        black_box(tables.registry.unregister(&key, pid));
                    }
                })
            })
        });
        group.bench_with_input(
            BenchmarkId::new("raw_dashmap", threads),
            &threads,
            |b, &t| {
                b.iter_custom(|iters| {
                    on_threads(t, iters, |thread, n| {
                        let cell = tables.pids[thread as usize].cell();
                        for i in 0..n {
                            let key = thread << 40 | i;
                            tables.raw.insert(key, cell.clone());
                            black_box(tables.raw.remove(&key));
                        }
                    })
                })
            },
        );
    }
    group.finish();
}

fn registry(c: &mut Criterion) {
    let rt = runtime();
    let holders: Vec<Server<Idle>> = rt.block_on(async {
        let mut holders = Vec::new();
        for _ in 0..HOLDERS {
            holders.push(Server::start(Idle, ()).await.expect("start a holder"));
        }
        holders
    });
    lookup_group(c, "registry_lookup_hot", HOT, &holders);
    lookup_group(c, "registry_lookup_1m", big(), &holders);
    register_group(c, &holders);
}

criterion_group!(benches, registry);
criterion_main!(benches);
