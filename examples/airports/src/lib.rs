//! The book's `airports` app (chapter 4) on arbor: which countries have the most working
//! airports, from OurAirports' real `airports.csv` (73,623 airports), computed the way the
//! chapter walks it — an eager iterator, a lazy one, then a [`Flow`] with `from_iter`,
//! `partition` + `reduce`, `group_by`, `take_sort`, and windows with `trigger_every`
//! progress snapshots on a deliberately slowed stream.
//!
//! `cargo run --release -p airports` runs every variant and prints the top countries and
//! each variant's time; `--help` lists the flags (variant, stages, file).

pub mod data;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use arbor::flow::{Events, PartitionOptions, State, Trigger, Window};
use arbor::prelude::Flow;

pub use data::{Airport, AirportsError, Row, RowError, Tally};

/// Counts per country code, or the first error.
pub type Counts = Result<HashMap<String, usize>, AirportsError>;

/// How big a chunk of records the flows parse at once (about 2,000 records): large enough
/// that setting up a CSV reader per chunk costs nothing next to the parse, small enough
/// (about 50 chunks in the file) that both parsers stay busy to the end.
pub const CHUNK: usize = 256 * 1024;

/// The chapter's first version: parse every record into memory, then keep the open ones
/// and count them.
///
/// # Errors
///
/// The first malformed record.
pub fn eager(bytes: &[u8]) -> Counts {
    let airports: Vec<Airport> = data::rows(bytes).collect::<Result<_, _>>()?;
    let mut counts = HashMap::new();
    for airport in airports.into_iter().filter(Airport::is_open) {
        *counts.entry(airport.country).or_default() += 1;
    }
    Ok(counts)
}

/// The lazy version: one record at a time, nothing kept but the counts.
///
/// # Errors
///
/// The first malformed record.
pub fn lazy(bytes: &[u8]) -> Counts {
    Ok(data::rows(bytes)
        .fold(Tally::default(), Tally::count)
        .into_counts()?)
}

/// The records as a flow: chunks cut by the source, parsed in `stages` stages.
fn parsed(bytes: Arc<[u8]>) -> Flow<Row, data::Chunk> {
    // Chunks are coarse: each parser asks for one at a time, so both stay busy.
    Flow::from_iter(data::chunks(bytes, CHUNK))
        .max_demand(1)
        .min_demand(0)
        .flat_map(|chunk| chunk.rows())
}

/// Flow's first step: `from_iter` + `map` / `reject` in parallel, then count the
/// collected airports here.
///
/// # Errors
///
/// The first malformed record, or the flow's failure.
pub async fn flow_map(bytes: Arc<[u8]>) -> Counts {
    let open = parsed(bytes)
        .reject(|row| row.as_ref().is_ok_and(|a| !a.is_open()))
        .collect()
        .await?;
    Ok(open
        .into_iter()
        .fold(Tally::default(), Tally::count)
        .into_counts()?)
}

fn by_country(stages: usize) -> PartitionOptions<Row> {
    // Hashing the code in place: `by_key` would clone it for every record.
    PartitionOptions::by_hash(move |row: &Row| Some(data::partition_of(row, stages))).stages(stages)
}

fn merged(tallies: Vec<Tally>) -> Counts {
    Ok(tallies
        .into_iter()
        .fold(Tally::default(), Tally::merge)
        .into_counts()?)
}

/// `partition` by country into `stages` reducers, each counting its countries.
///
/// # Errors
///
/// As [`flow_map`].
pub async fn flow_reduce(bytes: Arc<[u8]>, stages: usize) -> Counts {
    let tallies = parsed(bytes)
        .partition(by_country(stages))
        .reduce(Tally::default, Tally::count)
        .emit(State)
        .collect()
        .await?;
    merged(tallies)
}

/// As [`flow_reduce`], with a combiner: each parser stage counts its chunk first and
/// sends `(country, count)` pairs, so the reducers add a few thousand pairs instead of
/// counting 73,623 records (the shape of the rayon peer in the bench: count per chunk,
/// then merge).
///
/// # Errors
///
/// As [`flow_map`].
pub async fn flow_count(bytes: Arc<[u8]>, stages: usize) -> Counts {
    type Part = Result<(String, usize), RowError>;
    let tallies = Flow::from_iter(data::chunks(bytes, CHUNK))
        .max_demand(1)
        .min_demand(0)
        .flat_map(|chunk| {
            let tally = chunk.tally();
            let error = tally.error.map(Err);
            tally
                .counts
                .into_iter()
                .map(Ok)
                .chain(error)
                .collect::<Vec<Part>>()
        })
        .partition(
            PartitionOptions::by_hash(move |part: &Part| {
                let country = part.as_ref().map_or("", |(country, _)| country.as_str());
                Some(data::stage_of(country, stages))
            })
            .stages(stages),
        )
        .reduce(Tally::default, |tally, part: Part| match part {
            Ok((country, n)) => {
                let mut tally = tally;
                *tally.counts.entry(country).or_default() += n;
                tally
            }
            Err(error) => tally.count(Err(error)),
        })
        .emit(State)
        .collect()
        .await?;
    merged(tallies)
}

/// `group_by` country, then each group counted.
///
/// # Errors
///
/// As [`flow_map`].
pub async fn flow_group(bytes: Arc<[u8]>, stages: usize) -> Counts {
    let tallies = parsed(bytes)
        .partition(by_country(stages))
        .group_by(data::country_key, |row| row)
        .emit(Events)
        .map(|(_, rows)| rows.into_iter().fold(Tally::default(), Tally::count))
        .collect()
        .await?;
    merged(tallies)
}

/// The `n` countries with the most open airports, by `take_sort` across the reducers.
///
/// # Errors
///
/// As [`flow_map`].
pub async fn flow_top(
    bytes: Arc<[u8]>,
    stages: usize,
    n: usize,
) -> Result<Vec<(String, usize)>, AirportsError> {
    let top = parsed(bytes)
        .partition(by_country(stages))
        .reduce(Tally::default, Tally::count)
        .on_trigger(|tally, _, _| {
            let events: Vec<Result<(String, usize), RowError>> = match tally.error {
                Some(error) => vec![Err(error)],
                None => tally.counts.into_iter().map(Ok).collect(),
            };
            (events, Tally::default())
        })
        .partition(PartitionOptions::any().stages(1))
        .take_sort(n, |a, b| match (a, b) {
            // Errors sort first, so that one is never cut.
            (Err(a), Err(b)) => a.line.cmp(&b.line),
            (Err(_), Ok(_)) => std::cmp::Ordering::Less,
            (Ok(_), Err(_)) => std::cmp::Ordering::Greater,
            (Ok(a), Ok(b)) => data::by_count(a, b),
        })
        .collect()
        .await?;
    let best = top
        .into_iter()
        .flatten()
        .collect::<Result<Vec<_>, RowError>>()?;
    Ok(best)
}

/// A progress snapshot of one reducer: its index and its counts so far.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The reducer stage.
    pub stage: usize,
    /// Records it has seen (the trigger fires every `every` incoming records).
    pub counts: HashMap<String, usize>,
}

/// The chapter's windows section: the source is slowed down (`delay` every 20 chunks)
/// and every reducer reports a snapshot every `every` records through `progress`; the
/// final counts come at the end.
///
/// # Errors
///
/// As [`flow_map`].
pub async fn flow_window(
    bytes: Arc<[u8]>,
    stages: usize,
    every: usize,
    delay: Duration,
    progress: impl Fn(Snapshot) + Send + Sync + 'static,
) -> Counts {
    use futures::StreamExt;
    let slow = futures::stream::iter(data::chunks(bytes, CHUNK / 8).enumerate())
        .then(move |(n, chunk)| async move {
            if n % 20 == 19 {
                tokio::time::sleep(delay).await;
            }
            chunk
        })
        .boxed();
    let window = Window::global().trigger_every(every);
    let tallies = Flow::from_stream(slow)
        .max_demand(1)
        .min_demand(0)
        .flat_map(|chunk: data::Chunk| chunk.rows())
        .partition(by_country(stages).window(window))
        .reduce(Tally::default, Tally::count)
        .on_trigger(move |tally, partition, info| {
            if info.trigger == Trigger::Done {
                return (vec![tally], Tally::default());
            }
            progress(Snapshot {
                stage: partition.index,
                counts: tally.counts.clone(),
            });
            (Vec::new(), tally)
        })
        .collect()
        .await?;
    merged(tallies)
}
