//! `SubscriptionTag`: the name of one subscription, and the map keyed by it. Part of the
//! pure core: dispatchers key their state by tag, and this file reaches nothing of the
//! runtime.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// Identifies one subscription (one producer→consumer link) for as long as it lives.
///
/// A consumer subscribed twice to the same producer holds two tags. Dispatchers key all
/// their per-consumer state by tag, so the stage must never reuse a tag while the
/// subscription it named may still be known to a dispatcher.
///
/// # Examples
///
/// ```
/// use arbor_stage::SubscriptionTag;
///
/// let tag = SubscriptionTag::new(7);
/// assert_eq!(tag.get(), 7);
/// assert!(SubscriptionTag::new(1) < tag);
/// assert_eq!(tag.to_string(), "7");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionTag(u64);

impl SubscriptionTag {
    /// The tag with this number.
    pub const fn new(id: u64) -> Self {
        SubscriptionTag(id)
    }

    /// The tag's number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for SubscriptionTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A map keyed by subscription tag. Tags are unique numbers, so they need no SipHash: a
/// multiplicative mix spreads them over the table for a fraction of the cost.
pub(crate) type TagMap<V> = HashMap<SubscriptionTag, V, BuildHasherDefault<TagHasher>>;

/// Hashes a tag's number (the only thing `SubscriptionTag` feeds a hasher).
#[derive(Debug, Default)]
pub(crate) struct TagHasher(u64);

impl Hasher for TagHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(FIBONACCI);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(FIBONACCI);
    }
}

/// 2^64 / φ: multiplying by it spreads consecutive numbers over the high bits, which
/// the hash table reads.
const FIBONACCI: u64 = 0x9E37_79B9_7F4A_7C15;

impl SubscriptionTag {
    /// A tag no other subscription in this process has.
    pub(crate) fn next() -> Self {
        // Unique across stages, so a producer can key its consumers by tag alone.
        static NEXT: AtomicU64 = AtomicU64::new(1);
        SubscriptionTag(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}
