//! Work functions that count their runs, and a gate that holds jobs running.

#![allow(dead_code, unreachable_pub)] // each test file uses some of these

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use jobber::{Work, WorkError};
use tokio::sync::watch;

/// How many times a work function ran.
#[derive(Clone, Default)]
pub struct Runs(Arc<AtomicU32>);

impl Runs {
    pub fn get(&self) -> u32 {
        self.0.load(Ordering::SeqCst)
    }

    /// Counts this run; returns its number, from 1.
    fn next(&self) -> u32 {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }
}

/// Work that fails its first `failures` runs, then succeeds.
pub fn failing(failures: u32) -> (Work, Runs) {
    let runs = Runs::default();
    let counter = runs.clone();
    let work = Work::new(move || {
        let run = counter.next();
        async move {
            if run <= failures {
                Err(WorkError::new(format!("run {run} failed")))
            } else {
                Ok(())
            }
        }
    });
    (work, runs)
}

/// Work that panics its first `panics` runs, then succeeds.
pub fn panicking(panics: u32) -> (Work, Runs) {
    let runs = Runs::default();
    let counter = runs.clone();
    let work = Work::new(move || {
        let run = counter.next();
        async move {
            if run <= panics {
                panic!("Boom! (run {run})");
            }
            Ok(())
        }
    });
    (work, runs)
}

/// Holds every job whose work it made running until it opens.
pub struct Gate {
    open: watch::Sender<bool>,
}

impl Gate {
    pub fn new() -> Self {
        Gate {
            open: watch::channel(false).0,
        }
    }

    /// Work that waits for the gate, then succeeds.
    pub fn work(&self) -> Work {
        let gate = self.open.subscribe();
        Work::new(move || {
            let mut gate = gate.clone();
            async move {
                let _ = gate.wait_for(|open| *open).await;
                Ok(())
            }
        })
    }

    pub fn open(&self) {
        self.open.send_replace(true);
    }
}
