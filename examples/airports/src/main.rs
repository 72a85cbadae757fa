//! `cargo run --release -p airports` — which countries have the most working airports,
//! from OurAirports' `airports.csv` (shipped in `examples/airports/data/`), computed the
//! ways the book's Flow chapter walks through. Prints the top countries once, then each
//! variant's time. `--variant`, `--stages`, `--file`, `--top`: see `--help`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use airports::data;
use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Variant {
    /// Every variant but `window`, one after the other.
    All,
    /// Parse everything into memory, then count.
    Eager,
    /// Count record by record.
    Lazy,
    /// Flow: parse in parallel, count here.
    FlowMap,
    /// Flow: partition by country, reduce.
    FlowReduce,
    /// Flow: count each chunk first (a combiner), then partition and reduce.
    FlowCount,
    /// Flow: partition by country, group_by.
    FlowGroup,
    /// Flow: take_sort the top countries.
    FlowTop,
    /// Flow: trigger_every progress snapshots on a slowed stream.
    Window,
}

/// Open airports per country, from OurAirports' real data.
#[derive(Debug, Parser)]
struct Args {
    /// Which computation to run.
    #[arg(long, value_enum, default_value = "all")]
    variant: Variant,
    /// Reducer stages for the flow variants (default: the number of cores).
    #[arg(long)]
    stages: Option<usize>,
    /// The CSV file (`.gz` is gunzipped).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/data/airports.csv.gz"))]
    file: PathBuf,
    /// How many countries to show.
    #[arg(long, default_value_t = 10)]
    top: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let stages = args
        .stages
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let bytes = data::load(&args.file)?;
    println!(
        "{} ({} bytes), {stages} reducer stages",
        args.file.display(),
        bytes.len()
    );
    let variants = match args.variant {
        Variant::All => vec![
            Variant::Eager,
            Variant::Lazy,
            Variant::FlowMap,
            Variant::FlowReduce,
            Variant::FlowCount,
            Variant::FlowGroup,
            Variant::FlowTop,
        ],
        one => vec![one],
    };
    let mut shown = false;
    for variant in variants {
        let started = Instant::now();
        let top = run(variant, Arc::clone(&bytes), stages, args.top).await?;
        let took = started.elapsed();
        if !shown {
            println!("top {} countries by open airports:", args.top);
            for (rank, (country, n)) in top.iter().enumerate() {
                println!("{:>3}. {country}  {n}", rank + 1);
            }
            shown = true;
        }
        println!("{variant:?}: {took:.2?}");
    }
    Ok(())
}

async fn run(
    variant: Variant,
    bytes: Arc<[u8]>,
    stages: usize,
    n: usize,
) -> anyhow::Result<Vec<(String, usize)>> {
    let counts = match variant {
        Variant::All | Variant::Eager => airports::eager(&bytes)?,
        Variant::Lazy => airports::lazy(&bytes)?,
        Variant::FlowMap => airports::flow_map(bytes).await?,
        Variant::FlowReduce => airports::flow_reduce(bytes, stages).await?,
        Variant::FlowCount => airports::flow_count(bytes, stages).await?,
        Variant::FlowGroup => airports::flow_group(bytes, stages).await?,
        Variant::FlowTop => return Ok(airports::flow_top(bytes, stages, n).await?),
        Variant::Window => {
            airports::flow_window(bytes, stages, 5_000, Duration::from_millis(1), |snapshot| {
                let best = data::top(snapshot.counts, 3);
                println!("stage {}: {best:?}", snapshot.stage);
            })
            .await?
        }
    };
    Ok(data::top(counts, n))
}
