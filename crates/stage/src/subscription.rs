//! The identity of one subscription: a link from one producer to one consumer.

use std::fmt;

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
