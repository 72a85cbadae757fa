//! A tiny seeded shuffle, enough to spread a first dispatch over equal consumers.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// xorshift64*: not for cryptography, only to break ties between consumers.
#[derive(Debug, Clone)]
pub(crate) struct Shuffle {
    state: u64,
}

impl Shuffle {
    /// A generator for this seed; the same seed gives the same shuffles.
    pub(crate) fn from_seed(seed: u64) -> Self {
        // xorshift never leaves the all-zero state, so 0 is mapped to another seed.
        let state = if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        };
        Shuffle { state }
    }

    /// A generator seeded from the process's hash keys, which std randomises.
    pub(crate) fn from_entropy() -> Self {
        Self::from_seed(RandomState::new().build_hasher().finish())
    }

    fn next(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Fisher–Yates. The modulo bias is irrelevant for a handful of consumers.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for last in (1..items.len()).rev() {
            let bound = (last as u64).saturating_add(1);
            let pick = usize::try_from(self.next() % bound).unwrap_or(last);
            items.swap(last, pick);
        }
    }
}
