//! `bench-report`: reads criterion's saved results (`target/criterion`) and prints one
//! Markdown table: each scenario, arbor's figure, the raw baseline's figure from the same
//! run, their ratio, and the BEAM's figure from `shared/anchors/FIGURES.md` with arbor's
//! ratio to it.
//!
//! ```text
//! cargo run -p arbor-benches --bin bench-report [-- <criterion dir>]
//! ```
//!
//! Figures are criterion's median estimates. Groups with a throughput are reported as a
//! rate (per second); the others as a time per iteration. Ratios are "how many times
//! better arbor is" — above 1 is better than the baseline — whichever the unit.
//!
//! A group's figures come from its last run: criterion keeps the results of every parameter
//! it has ever measured (a quick run's smaller N, say), so results saved long before the
//! group's newest are left out, and the report says how many.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use serde::Deserialize;

/// `new/benchmark.json`: what criterion measured.
#[derive(Debug, Deserialize)]
struct Benchmark {
    group_id: String,
    function_id: Option<String>,
    value_str: Option<String>,
    throughput: Option<Throughput>,
}

#[derive(Debug, Deserialize)]
enum Throughput {
    Elements(u64),
    Bytes(u64),
}

/// `new/estimates.json`: the figures; only the median is used.
#[derive(Debug, Deserialize)]
struct Estimates {
    median: Estimate,
}

#[derive(Debug, Deserialize)]
struct Estimate {
    point_estimate: f64,
}

/// One leg's figure.
#[derive(Debug, Clone, Copy)]
enum Figure {
    /// Elements per second.
    Rate(f64),
    /// Nanoseconds per iteration.
    Time(f64),
}

impl Figure {
    /// How many times better `self` is than `other` (same kind), if comparable.
    fn better_than(self, other: Figure) -> Option<f64> {
        match (self, other) {
            (Figure::Rate(a), Figure::Rate(b)) if b > 0.0 => Some(a / b),
            (Figure::Time(a), Figure::Time(b)) if a > 0.0 => Some(b / a),
            _ => None,
        }
    }
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Figure::Rate(rate) if rate >= 1e6 => write!(f, "{:.2} M/s", rate / 1e6),
            Figure::Rate(rate) if rate >= 1e3 => write!(f, "{:.1} k/s", rate / 1e3),
            Figure::Rate(rate) => write!(f, "{rate:.1} /s"),
            Figure::Time(ns) if ns >= 1e9 => write!(f, "{:.2} s", ns / 1e9),
            Figure::Time(ns) if ns >= 1e6 => write!(f, "{:.2} ms", ns / 1e6),
            Figure::Time(ns) if ns >= 1e3 => write!(f, "{:.2} µs", ns / 1e3),
            Figure::Time(ns) => write!(f, "{ns:.0} ns"),
        }
    }
}

/// The BEAM's figure for a group's work (`shared/anchors/FIGURES.md`), for groups whose
/// name starts with the key. Rates are per second, times per iteration.
const BEAM: &[(&str, Figure)] = &[
    ("actor_call", Figure::Time(1162.0)),
    ("actor_cast", Figure::Rate(7.88e6)),
    ("supervisor_restart", Figure::Time(14_000.0)),
    ("dynamic_start_child", Figure::Rate(156e3)),
    ("registry_lookup", Figure::Rate(1.18e6)),
    ("registry_register", Figure::Rate(998e3)),
    ("stage_pipeline", Figure::Rate(24.8e6)),
    ("stage_map", Figure::Rate(15.4e6)),
    ("stage_demand_2", Figure::Rate(33.2e6)),
    ("stage_broadcast_2", Figure::Rate(18.0e6)),
    ("stage_partition_2", Figure::Rate(9.0e6)),
    ("stage_max_demand_1", Figure::Rate(0.56e6)),
    ("stage_consumer_supervisor", Figure::Rate(329e3)),
];

/// Legs that do the same work as an arbor leg when the names alone do not say so:
/// (group prefix, arbor leg, raw leg). Otherwise each arbor leg meets every raw leg.
const PAIRS: &[(&str, &str, &str)] = &[
    ("actor_call", "arbor", "raw_ractor_timeout"),
    ("actor_call", "arbor_untimed", "raw_ractor"),
    // One task per item, as `async_stream` does, with or without the per-item timer;
    // `raw_inline` (no task) is the floor.
    ("async_stream", "arbor", "raw_spawn_timeout"),
    ("async_stream", "arbor", "raw_inline"),
    ("async_stream", "arbor_untimed", "raw_spawn"),
    // An await with the 5 s timer, and one without (`Duration::MAX`).
    ("task_spawn_await", "arbor", "raw_tokio_timeout"),
    ("task_spawn_await", "arbor_untimed", "raw_tokio"),
];

/// Results saved this long before their group's newest belong to an earlier run: the
/// longest group (a stage group's three legs) takes under a minute.
const SAME_RUN: Duration = Duration::from_secs(5 * 60);

/// One leg's result and when criterion saved it.
#[derive(Debug)]
struct Saved {
    group: String,
    param: String,
    leg: String,
    figure: Figure,
    saved: SystemTime,
}

/// A leg's figure, by (group, parameter) then by leg name.
type Table = BTreeMap<(String, String), BTreeMap<String, Figure>>;

fn main() -> Result<()> {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/criterion"));
    let mut saved = Vec::new();
    collect(&root, &mut saved)
        .with_context(|| format!("reading criterion results under {}", root.display()))?;
    if saved.is_empty() {
        anyhow::bail!(
            "no criterion results under {}: run `just bench` first",
            root.display()
        );
    }
    let (table, stale) = last_runs(saved);
    print_table(&table);
    if stale > 0 {
        println!("\n{stale} older result(s) left out: each group is reported from its last run.");
    }
    Ok(())
}

/// Keeps each group's results from its last run; returns them with the count left out.
fn last_runs(saved: Vec<Saved>) -> (Table, usize) {
    let mut newest: BTreeMap<String, SystemTime> = BTreeMap::new();
    for result in &saved {
        let entry = newest.entry(result.group.clone()).or_insert(result.saved);
        *entry = (*entry).max(result.saved);
    }
    let mut table = Table::new();
    let mut stale = 0;
    for result in saved {
        let age = newest[&result.group].duration_since(result.saved);
        if age.is_ok_and(|age| age <= SAME_RUN) {
            table
                .entry((result.group, result.param))
                .or_default()
                .insert(result.leg, result.figure);
        } else {
            stale += 1;
        }
    }
    (table, stale)
}

/// Finds every `new/benchmark.json` below `dir` and records its median.
fn collect(dir: &Path, saved: &mut Vec<Saved>) -> Result<()> {
    let new = dir.join("new");
    if new.join("benchmark.json").is_file() {
        saved.push(record(&new)?);
    }
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("");
        // Criterion's own copies of old runs and its report pages are not results.
        if path.is_dir() && !matches!(name, "new" | "base" | "change" | "report") {
            collect(&path, saved)?;
        }
    }
    Ok(())
}

fn record(new: &Path) -> Result<Saved> {
    let benchmark: Benchmark = read_json(&new.join("benchmark.json"))?;
    let estimates_path = new.join("estimates.json");
    let estimates: Estimates = read_json(&estimates_path)?;
    let saved = fs::metadata(&estimates_path)
        .and_then(|meta| meta.modified())
        .with_context(|| format!("reading the time of {}", estimates_path.display()))?;
    let ns = estimates.median.point_estimate;
    let figure = match benchmark.throughput {
        Some(Throughput::Elements(count) | Throughput::Bytes(count)) if ns > 0.0 => {
            Figure::Rate(count as f64 / (ns / 1e9))
        }
        _ => Figure::Time(ns),
    };
    Ok(Saved {
        group: benchmark.group_id,
        param: benchmark.value_str.unwrap_or_default(),
        leg: benchmark.function_id.unwrap_or_default(),
        figure,
        saved,
    })
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

fn print_table(table: &Table) {
    println!("| scenario | arbor | figure | raw baseline | figure | arbor vs raw | BEAM | arbor vs BEAM |");
    println!("|---|---|---|---|---|---|---|---|");
    for ((group, param), legs) in table {
        let scenario = if param.is_empty() {
            group.clone()
        } else {
            format!("{group} ({param})")
        };
        let beam = BEAM
            .iter()
            .find(|(prefix, _)| group.starts_with(prefix))
            .map(|(_, figure)| *figure);
        for (arbor, arbor_figure) in legs.iter().filter(|(leg, _)| leg.starts_with("arbor")) {
            for (raw, raw_figure) in baselines(group, arbor, legs) {
                let versus_raw = ratio(arbor_figure.better_than(raw_figure));
                let versus_beam = ratio(beam.and_then(|beam| arbor_figure.better_than(beam)));
                let beam = beam.map(|figure| figure.to_string()).unwrap_or_default();
                println!(
                    "| {scenario} | {arbor} | {arbor_figure} | {raw} | {raw_figure} | {versus_raw} | {beam} | {versus_beam} |"
                );
            }
        }
    }
}

/// The raw legs an arbor leg is compared with.
fn baselines<'a>(
    group: &str,
    arbor: &str,
    legs: &'a BTreeMap<String, Figure>,
) -> Vec<(&'a str, Figure)> {
    let paired: Vec<&str> = PAIRS
        .iter()
        .filter(|(prefix, leg, _)| group.starts_with(prefix) && *leg == arbor)
        .map(|(_, _, raw)| *raw)
        .collect();
    legs.iter()
        .filter(|(leg, _)| leg.starts_with("raw"))
        .filter(|(leg, _)| paired.is_empty() || paired.contains(&leg.as_str()))
        .map(|(leg, figure)| (leg.as_str(), *figure))
        .collect()
}

fn ratio(value: Option<f64>) -> String {
    value
        .map(|ratio| format!("{ratio:.2}×"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(group: &str, param: &str, leg: &str, minutes_ago: u64) -> Saved {
        Saved {
            group: group.into(),
            param: param.into(),
            leg: leg.into(),
            figure: Figure::Time(1.0),
            saved: SystemTime::UNIX_EPOCH + Duration::from_secs(24 * 3600 - minutes_ago * 60),
        }
    }

    #[test]
    fn each_group_is_reported_from_its_last_run() {
        let results = vec![
            // A quick run of `start` at N = 10 000, then a full run at 100 000 an hour later.
            saved("start", "10000", "arbor", 61),
            saved("start", "10000", "raw", 60),
            saved("start", "100000", "arbor", 1),
            saved("start", "100000", "raw", 0),
            // A group last run in the quick run keeps its figures.
            saved("lookup", "", "arbor", 60),
        ];
        let (table, stale) = last_runs(results);
        assert_eq!(stale, 2);
        let kept: Vec<_> = table.keys().cloned().collect();
        assert_eq!(
            kept,
            [
                ("lookup".to_string(), String::new()),
                ("start".to_string(), "100000".to_string())
            ]
        );
        assert_eq!(table[&("start".to_string(), "100000".to_string())].len(), 2);
    }

    #[test]
    fn an_untimed_stream_meets_only_its_twin() {
        let legs: BTreeMap<String, Figure> = [
            "arbor",
            "arbor_untimed",
            "raw_inline",
            "raw_spawn",
            "raw_spawn_timeout",
        ]
        .into_iter()
        .map(|leg| (leg.to_string(), Figure::Rate(1.0)))
        .collect();
        let names = |arbor| -> Vec<&str> {
            baselines("async_stream_unordered_ct", arbor, &legs)
                .into_iter()
                .map(|(leg, _)| leg)
                .collect()
        };
        assert_eq!(names("arbor"), ["raw_inline", "raw_spawn_timeout"]);
        assert_eq!(names("arbor_untimed"), ["raw_spawn"]);
    }
}
