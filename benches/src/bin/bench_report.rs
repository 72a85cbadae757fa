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

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

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
];

/// A leg's figure, by (group, parameter) then by leg name.
type Table = BTreeMap<(String, String), BTreeMap<String, Figure>>;

fn main() -> Result<()> {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/criterion"));
    let mut table = Table::new();
    collect(&root, &mut table)
        .with_context(|| format!("reading criterion results under {}", root.display()))?;
    if table.is_empty() {
        anyhow::bail!(
            "no criterion results under {}: run `just bench` first",
            root.display()
        );
    }
    print_table(&table);
    Ok(())
}

/// Finds every `new/benchmark.json` below `dir` and records its median.
fn collect(dir: &Path, table: &mut Table) -> Result<()> {
    let new = dir.join("new");
    if new.join("benchmark.json").is_file() {
        record(&new, table)?;
    }
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("");
        // Criterion's own copies of old runs and its report pages are not results.
        if path.is_dir() && !matches!(name, "new" | "base" | "change" | "report") {
            collect(&path, table)?;
        }
    }
    Ok(())
}

fn record(new: &Path, table: &mut Table) -> Result<()> {
    let benchmark: Benchmark = read_json(&new.join("benchmark.json"))?;
    let estimates: Estimates = read_json(&new.join("estimates.json"))?;
    let ns = estimates.median.point_estimate;
    let figure = match benchmark.throughput {
        Some(Throughput::Elements(count) | Throughput::Bytes(count)) if ns > 0.0 => {
            Figure::Rate(count as f64 / (ns / 1e9))
        }
        _ => Figure::Time(ns),
    };
    let leg = benchmark.function_id.unwrap_or_default();
    let param = benchmark.value_str.unwrap_or_default();
    table
        .entry((benchmark.group_id, param))
        .or_default()
        .insert(leg, figure);
    Ok(())
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
