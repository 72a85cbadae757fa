//! The `flow_wordcount` scenario's arbor leg, shared by the `flow` bench and the
//! `flow-profile` binary: a word count over generated events, one event per word id.

use std::collections::HashMap;

use arbor::flow::{Flow, FlowError, PartitionOptions, State};

/// How many distinct words the events name.
pub const VOCABULARY: u64 = 10_000;

/// The word event `n` names: `n * 7919 % VOCABULARY`, so consecutive events spread over
/// the vocabulary.
pub fn word(n: u64) -> u64 {
    n.wrapping_mul(7919) % VOCABULARY
}

/// Counts the words of events `0..events` with a flow: `from_iter` → `map` to the word →
/// `partition` into 2 reducers by the word's hash → `reduce` into a map per reducer,
/// merged at the end.
///
/// # Errors
///
/// The flow's error, if it fails.
pub async fn count_flow(events: u64) -> Result<HashMap<u64, u64>, FlowError> {
    let counts = Flow::from_iter(0..events)
        .map(word)
        .partition(PartitionOptions::new().stages(2))
        .reduce(HashMap::new, |mut counts: HashMap<u64, u64>, word| {
            *counts.entry(word).or_default() += 1;
            counts
        })
        .emit(State)
        .collect()
        .await?;
    Ok(counts.into_iter().flatten().collect())
}
