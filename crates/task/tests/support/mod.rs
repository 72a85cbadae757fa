//! Helpers shared by arbor-task's tests.
#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

/// Watches futures that hold one of its tokens: `gone` returns once every token is
/// dropped, which is how a test sees that tasks were killed (their futures dropped).
pub struct Watch {
    tx: Option<mpsc::Sender<()>>,
    rx: mpsc::Receiver<()>,
}

/// Held by a watched future; dropped with it.
#[derive(Clone)]
pub struct Token(mpsc::Sender<()>);

impl Watch {
    pub fn new() -> Self {
        let (tx, rx) = mpsc::channel(1);
        Watch { tx: Some(tx), rx }
    }

    pub fn token(&self) -> Token {
        Token(self.tx.clone().expect("token after gone"))
    }

    /// Waits until every token is dropped (fails the test after 10 s of virtual or real time).
    pub async fn gone(mut self) {
        self.tx = None;
        tokio::time::timeout(Duration::from_secs(10), self.rx.recv())
            .await
            .expect("a watched future is still alive");
    }
}

/// Counts how many holders are inside a section at once, and the peak.
#[derive(Clone, Default)]
pub struct Gauge {
    now: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

pub struct Inside(Gauge);

impl Gauge {
    pub fn enter(&self) -> Inside {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        Inside(self.clone())
    }

    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    pub fn now(&self) -> usize {
        self.now.load(Ordering::SeqCst)
    }
}

impl Drop for Inside {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Sleeps `ms` milliseconds (of the paused clock in tests that pause it).
pub async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}
