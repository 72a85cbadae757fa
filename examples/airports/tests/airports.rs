//! The app's counts on the shipped data equal a plain single-threaded count, whatever
//! the variant and the number of stages; bad files give clear errors.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use airports::data::{self, AirportsError};

fn shipped() -> Arc<[u8]> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/airports.csv.gz");
    data::load(&path).expect("the shipped data")
}

/// The reference: csv's reader, one record after the other, nothing shared.
fn plain_count(bytes: &[u8]) -> HashMap<String, usize> {
    let mut reader = csv::Reader::from_reader(bytes);
    let mut counts = HashMap::new();
    for record in reader.records() {
        let record = record.expect("a well-formed record");
        if &record[2] != "closed" {
            *counts.entry(record[8].to_string()).or_default() += 1;
        }
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_variant_counts_what_a_plain_count_counts() {
    let bytes = shipped();
    let expected = plain_count(&bytes);
    assert_eq!(
        expected.values().sum::<usize>(),
        73_623 - count_closed(&bytes)
    );
    assert_eq!(airports::eager(&bytes).unwrap(), expected);
    assert_eq!(airports::lazy(&bytes).unwrap(), expected);
    assert_eq!(
        airports::flow_map(Arc::clone(&bytes)).await.unwrap(),
        expected
    );
    for stages in [1, 2, 4] {
        assert_eq!(
            airports::flow_reduce(Arc::clone(&bytes), stages)
                .await
                .unwrap(),
            expected
        );
        assert_eq!(
            airports::flow_group(Arc::clone(&bytes), stages)
                .await
                .unwrap(),
            expected
        );
        let top = airports::flow_top(Arc::clone(&bytes), stages, 10)
            .await
            .unwrap();
        assert_eq!(top, data::top(expected.clone(), 10));
    }
    assert_eq!(data::top(expected, 1), vec![("US".to_string(), 24_062)]);
}

fn count_closed(bytes: &[u8]) -> usize {
    let mut reader = csv::Reader::from_reader(bytes);
    reader
        .records()
        .filter(|r| r.as_ref().is_ok_and(|r| &r[2] == "closed"))
        .count()
}

#[tokio::test(start_paused = true)]
async fn the_window_variant_reports_growing_snapshots_then_the_same_counts() {
    let bytes = shipped();
    let expected = plain_count(&bytes);
    let snapshots = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&snapshots);
    let counts = airports::flow_window(bytes, 2, 10_000, Duration::from_millis(1), move |s| {
        seen.lock().unwrap().push(s);
    })
    .await
    .unwrap();
    assert_eq!(counts, expected);
    let snapshots = snapshots.lock().unwrap();
    // 73,623 records over 2 stages, a snapshot every 10,000 records a stage sees.
    assert!(snapshots.len() >= 5, "{} snapshots", snapshots.len());
    for stage in 0..2 {
        let totals: Vec<usize> = snapshots
            .iter()
            .filter(|s| s.stage == stage)
            .map(|s| s.counts.values().sum())
            .collect();
        assert!(
            totals.windows(2).all(|w| w[0] <= w[1]),
            "stage {stage}: {totals:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_record_is_reported_with_its_line() {
    let csv = "\"id\",\"ident\",\"type\",\"name\",\"lat\",\"lon\",\"elev\",\"continent\",\"iso_country\"\n\
               1,\"A\",\"small_airport\",\"One, with a comma\",0,0,0,\"EU\",\"FR\"\n\
               2,\"B\",\"heliport\",\"Two \"\"quoted\"\"\",0,0,0,\"EU\",\"DE\"\n\
               3,\"C\",\"closed\"\n";
    let bytes: Arc<[u8]> = Arc::from(csv.as_bytes());
    let error = airports::lazy(&bytes).unwrap_err();
    assert!(error.to_string().contains("line 4"), "{error}");
    let error = airports::flow_reduce(Arc::clone(&bytes), 2)
        .await
        .unwrap_err();
    assert!(
        matches!(error, AirportsError::Row(ref e) if e.line == 4),
        "{error}"
    );
    let error = airports::flow_count(Arc::clone(&bytes), 2)
        .await
        .unwrap_err();
    assert!(
        matches!(error, AirportsError::Row(ref e) if e.line == 4),
        "{error}"
    );
    let error = airports::flow_top(bytes, 2, 10).await.unwrap_err();
    assert!(
        matches!(error, AirportsError::Row(ref e) if e.line == 4),
        "{error}"
    );
}

/// Quoted commas, quoted newlines and escaped quotes, then a short record.
const TRICKY: &str =
    "\"id\",\"ident\",\"type\",\"name\",\"lat\",\"lon\",\"elev\",\"continent\",\"iso_country\"\n\
    1,\"A\",\"small_airport\",\"One, with a comma\",0,0,0,\"EU\",\"FR\"\n\
    2,\"B\",\"heliport\",\"Two \"\"quoted\"\", \"\"twice\"\"\",0,0,0,\"EU\",\"DE\"\n\
    3,\"C\",\"closed\",\"Three\nlines\n\"\"long\"\"\",0,0,0,\"EU\",\"IT\"\n\
    4,\"D\",\"heliport\",\"Four\",0,0,0,\"EU\",\"ES\"\n\
    5,\"E\",\"closed\"\n\
    6,\"F\",\"heliport\",\"Six\",0,0,0,\"EU\",\"PT\"\n";

#[test]
fn chunks_cut_at_record_boundaries_whatever_their_size() {
    let bytes: Arc<[u8]> = Arc::from(TRICKY.as_bytes());
    // An error's message names the record's place in its chunk; its line is the file's.
    let comparable = |row: data::Row| row.map_err(|error| error.line);
    let expected: Vec<_> = data::rows(&bytes).map(comparable).collect();
    assert_eq!(expected.len(), 6);
    assert_eq!(
        expected[2].as_ref().map(|a| a.name.as_str()),
        Ok("Three\nlines\n\"long\"")
    );
    assert_eq!(expected[4], Err(8), "records 3 and 4 span lines 4 to 7");
    for size in 0..=TRICKY.len() + 1 {
        let rows: Vec<_> = data::chunks(Arc::clone(&bytes), size)
            .flat_map(|chunk| chunk.rows())
            .map(comparable)
            .collect();
        assert_eq!(rows, expected, "chunks of {size} bytes");
    }
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let error = data::load(&PathBuf::from("/nonexistent/airports.csv")).unwrap_err();
    assert!(
        error.to_string().contains("/nonexistent/airports.csv"),
        "{error}"
    );
}
