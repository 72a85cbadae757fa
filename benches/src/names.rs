//! The name tables of the registry benches, shared by the `registry` bench and the
//! `scaling` curves: an arbor [`Registry`] and a raw `DashMap<u64, ActorCell>` (what a
//! hand-rolled name table does) holding the same keys, and one lookup of each kind.

use std::hint::black_box;

use arbor_actor::ractor::ActorCell;
use arbor_actor::{Pid, Server};
use arbor_registry::Registry;
use dashmap::DashMap;

use crate::supervision::Idle;

/// The two tables under test, filled with the same keys.
#[derive(Debug)]
pub struct Tables {
    /// arbor: a unique registry, each key held by one of the holders, no value.
    pub registry: Registry<u64>,
    /// raw: each key mapped to its holder's cell.
    pub raw: DashMap<u64, ActorCell>,
    /// The holders' pids.
    pub pids: Vec<Pid>,
}

impl Tables {
    /// Tables holding keys `0..keys`, key `k` held by `holders[k % holders.len()]`.
    ///
    /// # Panics
    ///
    /// When `holders` is empty or a key does not register.
    pub fn new(keys: u64, holders: &[Server<Idle>]) -> Tables {
        let registry = Registry::unique("bench");
        let raw = DashMap::new();
        let pids: Vec<Pid> = holders.iter().map(Server::pid).collect();
        for key in 0..keys {
            let pid = &pids[key as usize % pids.len()];
            registry
                .register(key, pid.clone(), ())
                .expect("fresh key registers");
            raw.insert(key, pid.cell().clone());
        }
        Tables {
            registry,
            raw,
            pids,
        }
    }

    /// arbor `Registry::lookup` (its (pid, value) entries).
    #[inline]
    pub fn lookup(&self, key: u64) {
        black_box(self.registry.lookup(&key));
    }

    /// arbor `Registry::whereis` (the pid).
    #[inline]
    pub fn whereis(&self, key: u64) {
        black_box(self.registry.whereis(&key).ok());
    }

    /// raw `DashMap::get` plus a clone of the cell.
    #[inline]
    pub fn raw_get(&self, key: u64) {
        black_box(self.raw.get(&key).map(|cell| cell.clone()));
    }
}

/// The `i`-th key thread `thread` reads among `keys`: each thread walks the keys from its
/// own offset with an odd stride, so threads do not read the same key in lock step.
#[inline]
pub fn key_at(keys: u64, thread: u64, i: u64) -> u64 {
    (i.wrapping_mul(7) + thread * 13) % keys
}
