//! Reading OurAirports' CSV: the file (gzipped or not), the records, and chunks of whole
//! records for parallel parsing.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One airport, the fields the app needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Airport {
    /// `type`: `large_airport`, `heliport`, `closed`, …
    pub kind: String,
    /// `name`.
    pub name: String,
    /// `iso_country`: a two-letter code.
    pub country: String,
}

impl Airport {
    /// Whether the airport still works (its type is not `closed`).
    pub fn is_open(&self) -> bool {
        self.kind != "closed"
    }
}

/// A record that could not be read, with its line number in the file (1 is the header).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct RowError {
    /// The line the record starts on.
    pub line: u64,
    /// What is wrong with it.
    pub message: String,
}

/// A parsed record, or why it could not be.
pub type Row = Result<Airport, RowError>;

/// Why the app could not count.
#[derive(Debug, thiserror::Error)]
pub enum AirportsError {
    /// The file could not be read (missing, unreadable, not gzip).
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A record is malformed.
    #[error("malformed CSV: {0}")]
    Row(#[from] RowError),
    /// The flow failed.
    #[error("the flow failed")]
    Flow(#[from] arbor::flow::FlowError),
}

/// The file's bytes, gunzipped if its name ends in `.gz`.
///
/// # Errors
///
/// [`AirportsError::Read`].
pub fn load(path: &Path) -> Result<Arc<[u8]>, AirportsError> {
    let read = |source| AirportsError::Read {
        path: path.to_owned(),
        source,
    };
    let raw = std::fs::read(path).map_err(read)?;
    if path.extension().is_some_and(|ext| ext == "gz") {
        let mut bytes = Vec::with_capacity(raw.len() * 4);
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut bytes)
            .map_err(read)?;
        Ok(bytes.into())
    } else {
        Ok(raw.into())
    }
}

const TYPE: usize = 2;
const NAME: usize = 3;
const COUNTRY: usize = 8;

fn reader(bytes: &[u8]) -> csv::Reader<&[u8]> {
    // Flexible: `row` checks each record's fields itself, so a short record is reported
    // the same whether the file is read whole or in chunks (csv's own check compares a
    // record with the first of its reader, which a chunk changes).
    csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(bytes)
}

fn row(record: Result<csv::ByteRecord, csv::Error>, first_line: u64) -> Row {
    let at =
        |position: Option<&csv::Position>| first_line + position.map_or(1, csv::Position::line) - 1;
    let record = record.map_err(|error| RowError {
        line: at(error.position()),
        message: error.to_string(),
    })?;
    let line = at(record.position());
    let field = |i: usize| {
        record
            .get(i)
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .ok_or_else(|| RowError {
                line,
                message: format!(
                    "expected at least {} fields, found {}",
                    COUNTRY + 1,
                    record.len()
                ),
            })
    };
    Ok(Airport {
        kind: field(TYPE)?,
        name: field(NAME)?,
        country: field(COUNTRY)?,
    })
}

/// Where the records start: after the header line.
fn body(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|b| *b == b'\n')
        .map_or(bytes.len(), |at| at + 1)
}

/// Every record of the file, in order, parsed lazily.
pub fn rows(bytes: &[u8]) -> impl Iterator<Item = Row> + '_ {
    let mut reader = reader(&bytes[body(bytes)..]);
    let mut record = csv::ByteRecord::new();
    std::iter::from_fn(move || match reader.read_byte_record(&mut record) {
        Ok(false) => None,
        Ok(true) => Some(row(Ok(record.clone()), 2)),
        Err(error) => Some(row(Err(error), 2)),
    })
}

/// A run of whole records of the file, to parse on its own.
#[derive(Debug, Clone)]
pub struct Chunk {
    bytes: Arc<[u8]>,
    start: usize,
    end: usize,
    /// The line the chunk starts on.
    first_line: u64,
}

impl Chunk {
    /// Parses the chunk's records.
    pub fn rows(&self) -> Vec<Row> {
        self.parsed().collect()
    }

    /// Counts the chunk's open airports as its records are read, keeping none of them (a
    /// combiner's work: the `Vec` of [`Chunk::rows`] costs as much as the count).
    pub fn tally(&self) -> Tally {
        self.parsed().fold(Tally::default(), Tally::count)
    }

    fn parsed(&self) -> impl Iterator<Item = Row> + '_ {
        let first_line = self.first_line;
        reader(&self.bytes[self.start..self.end])
            .into_byte_records()
            .map(move |record| row(record, first_line))
    }
}

/// Cuts the file's records into chunks of about `size` bytes, at record boundaries (a
/// newline outside quotes), as the chunks are asked for.
///
/// The source cuts the chunks alone while the parsers share the parsing, so the cut must
/// not walk the records: it counts the chunk's quotes in one SIMD pass to know
/// whether the byte `size` bytes ahead is inside a quoted field (the chunk starts outside
/// one, and an escaped `""` counts twice), then walks only to the end of that record.
pub fn chunks(bytes: Arc<[u8]>, size: usize) -> impl Iterator<Item = Chunk> + Send {
    let mut start = body(&bytes);
    let mut line = 2;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let end = record_end(&bytes, start, size);
        let chunk = Chunk {
            bytes: Arc::clone(&bytes),
            start,
            end,
            first_line: line,
        };
        line += occurrences(&bytes[start..end], b'\n') as u64;
        start = end;
        Some(chunk)
    })
}

/// The end of the first record that ends `size` bytes or more after `start` (a record
/// boundary), or the end of the file.
fn record_end(bytes: &[u8], start: usize, size: usize) -> usize {
    let ahead = (start + size.saturating_sub(1)).min(bytes.len());
    let mut quoted = occurrences(&bytes[start..ahead], b'"') % 2 == 1;
    for (at, byte) in bytes[ahead..].iter().enumerate() {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => return ahead + at + 1,
            _ => {}
        }
    }
    bytes.len()
}

/// How many times `byte` occurs in `bytes`.
fn occurrences(bytes: &[u8], byte: u8) -> usize {
    bytecount::count(bytes, byte)
}

/// Open airports per country, and the first malformed record if any.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Open airports per country code.
    pub counts: HashMap<String, usize>,
    /// The first malformed record seen.
    pub error: Option<RowError>,
}

impl Tally {
    /// Counts `row` if it is an open airport; keeps the first error.
    pub fn count(mut self, row: Row) -> Self {
        match row {
            Ok(airport) if airport.is_open() => {
                *self.counts.entry(airport.country).or_default() += 1
            }
            Ok(_) => {}
            Err(error) => {
                if self.error.as_ref().is_none_or(|e| error.line < e.line) {
                    self.error = Some(error);
                }
            }
        }
        self
    }

    /// Both tallies together.
    pub fn merge(mut self, other: Tally) -> Self {
        for (country, n) in other.counts {
            *self.counts.entry(country).or_default() += n;
        }
        if let Some(error) = other.error {
            self = self.count(Err(error));
        }
        self
    }

    /// The counts, or the first error.
    ///
    /// # Errors
    ///
    /// The first malformed record.
    pub fn into_counts(self) -> Result<HashMap<String, usize>, RowError> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(self.counts),
        }
    }
}

/// The country a row is routed by (errors all go to one stage).
pub fn country_key(row: &Row) -> String {
    row.as_ref().map(|a| a.country.clone()).unwrap_or_default()
}

/// The reducer stage (of `stages`) a row goes to: by its country (errors to stage 0).
pub fn partition_of(row: &Row, stages: usize) -> usize {
    stage_of(row.as_ref().map_or("", |a| a.country.as_str()), stages)
}

/// The reducer stage (of `stages`) a country goes to.
pub fn stage_of(country: &str, stages: usize) -> usize {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(country);
    (hash % stages.max(1) as u64) as usize
}

/// The `n` countries with the most open airports, most first (ties by code).
pub fn top(counts: HashMap<String, usize>, n: usize) -> Vec<(String, usize)> {
    let mut all: Vec<(String, usize)> = counts.into_iter().collect();
    all.sort_by(by_count);
    all.truncate(n);
    all
}

/// Most airports first, then by country code.
pub fn by_count(a: &(String, usize), b: &(String, usize)) -> std::cmp::Ordering {
    b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0))
}
