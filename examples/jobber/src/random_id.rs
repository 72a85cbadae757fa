//! Short random job ids, without a random-number crate.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// Base64's url-safe alphabet, as the book's `Base.url_encode64`.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Characters in an id: 7 × 6 = 42 random bits, as the book's 5 random bytes give 7
/// characters once encoded.
const LEN: usize = 7;

/// A random short url-safe id, such as `"r4Fl3I4"`.
///
/// `RandomState` is seeded from the OS once per thread and differs on every `new`; the
/// counter makes the hashed input differ too, so two ids match only by a 42-bit chance.
/// Not for secrets: it is unique enough to name jobs, not unguessable.
pub fn random_job_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let mut bits = hasher.finish();
    let mut id = String::with_capacity(LEN);
    for _ in 0..LEN {
        // `bits & 63` is below 64, so the index is in range.
        id.push(char::from(ALPHABET[(bits & 63) as usize]));
        bits >>= 6;
    }
    id
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_short_url_safe_and_distinct() {
        let ids: HashSet<String> = (0..10_000).map(|_| random_job_id()).collect();
        assert_eq!(ids.len(), 10_000);
        for id in &ids {
            assert_eq!(id.len(), LEN);
            assert!(id.bytes().all(|b| ALPHABET.contains(&b)), "{id}");
        }
    }
}
