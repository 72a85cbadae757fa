//! What happened to every page: the counts the summary and the progress bar show, the
//! in-flight gauge and its peak, and a record per page for the tests' "exactly once".

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::http::Fetched;
use crate::work::{Online, Scraped};

/// A snapshot of the run, published after every change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Pages handed to `scrape_pages`.
    pub requested: usize,
    /// Pages whose online check is done.
    pub checked: usize,
    /// Pages found online (passed on to be scraped).
    pub online: usize,
    /// Pages found offline (filtered out).
    pub offline: usize,
    /// Pages scraped (in real mode: fetched, whatever the status).
    pub scraped: usize,
    /// Pages whose fetch failed (real mode only).
    pub failed: usize,
    /// Pages the producer's full buffer discarded before anyone asked for them.
    pub discarded: u64,
    /// Pages being scraped right now.
    pub in_flight: usize,
    /// The most pages scraped at once so far.
    pub peak_in_flight: usize,
}

impl Progress {
    /// Pages that reached an end: offline, scraped, failed or discarded.
    pub fn settled(&self) -> u64 {
        let ends = self.offline + self.scraped + self.failed;
        u64::try_from(ends).unwrap_or(u64::MAX) + self.discarded
    }

    /// Whether every page requested so far reached an end (pages are counted as
    /// requested before they reach the producer, so this is never true too early).
    pub fn is_done(&self) -> bool {
        self.settled() >= u64::try_from(self.requested).unwrap_or(u64::MAX)
    }
}

/// How one page ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageOutcome {
    /// The online check filtered it out, for this reason.
    Offline(String),
    /// It was scraped; in real mode, with what the server sent.
    Scraped(Option<Fetched>),
    /// Its fetch failed, for this reason.
    Failed(String),
}

/// One page's end, in the order pages ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageReport {
    /// The page (a host name in simulated mode, a URL in real mode).
    pub page: String,
    /// How it ended.
    pub outcome: PageOutcome,
}

#[derive(Debug, Default)]
struct Ledger {
    progress: Progress,
    /// Every page requested, in request order.
    requested: Vec<String>,
    /// How many times each page was checked, and scraped: 1 and 1 (or 0) when all is well.
    checks: HashMap<String, usize>,
    scrapes: HashMap<String, usize>,
    reports: Vec<PageReport>,
    started: Option<Instant>,
    finished: Option<Instant>,
}

/// Shared by every stage of one pipeline; each change publishes a [`Progress`].
#[derive(Debug)]
pub struct Tally {
    ledger: Mutex<Ledger>,
    progress: watch::Sender<Progress>,
}

impl Default for Tally {
    fn default() -> Self {
        Self::new()
    }
}

impl Tally {
    /// An empty tally.
    pub fn new() -> Self {
        Tally {
            ledger: Mutex::new(Ledger::default()),
            progress: watch::Sender::new(Progress::default()),
        }
    }

    /// Watches the progress.
    pub fn subscribe(&self) -> watch::Receiver<Progress> {
        self.progress.subscribe()
    }

    /// The progress now.
    pub fn progress(&self) -> Progress {
        *self.progress.borrow()
    }

    /// `pages` were requested.
    pub(crate) fn requested(&self, pages: &[String]) {
        self.update(|ledger| {
            ledger.started.get_or_insert_with(Instant::now);
            ledger.finished = None;
            ledger.progress.requested += pages.len();
            ledger.requested.extend(pages.iter().cloned());
        });
    }

    /// The last `count` pages requested could not be handed to the producer.
    pub(crate) fn withdrawn(&self, count: usize) {
        self.update(|ledger| {
            ledger.progress.requested = ledger.progress.requested.saturating_sub(count);
            let kept = ledger.requested.len().saturating_sub(count);
            ledger.requested.truncate(kept);
        });
    }

    /// The producer has discarded `total` events since it started (a running total).
    pub(crate) fn discarded(&self, total: u64) {
        self.update(|ledger| {
            ledger.progress.discarded = ledger.progress.discarded.max(total);
        });
    }

    /// `page`'s online check is done.
    pub(crate) fn checked(&self, page: &str, online: &Online) {
        self.update(|ledger| {
            *ledger.checks.entry(page.to_owned()).or_default() += 1;
            ledger.progress.checked += 1;
            match online {
                Ok(()) => ledger.progress.online += 1,
                Err(why) => {
                    ledger.progress.offline += 1;
                    ledger.reports.push(PageReport {
                        page: page.to_owned(),
                        outcome: PageOutcome::Offline(why.clone()),
                    });
                }
            }
        });
    }

    /// Scraping `page` starts; the page is in flight until the returned guard is
    /// finished or dropped (a task aborted at shutdown is no longer in flight).
    pub(crate) fn scraping<'a>(&'a self, page: &str) -> InFlight<'a> {
        self.update(|ledger| {
            *ledger.scrapes.entry(page.to_owned()).or_default() += 1;
            let progress = &mut ledger.progress;
            progress.in_flight += 1;
            progress.peak_in_flight = progress.peak_in_flight.max(progress.in_flight);
        });
        InFlight {
            tally: self,
            page: page.to_owned(),
            landed: false,
        }
    }

    fn update(&self, change: impl FnOnce(&mut Ledger)) {
        let mut ledger = self.lock();
        change(&mut ledger);
        if ledger.progress.requested > 0 && ledger.progress.is_done() && ledger.finished.is_none() {
            ledger.finished = Some(Instant::now());
        }
        crate::metrics::export(&ledger.progress);
        self.progress.send_replace(ledger.progress);
    }

    fn lock(&self) -> MutexGuard<'_, Ledger> {
        // A panic while the lock was held cannot leave the counts half-updated in a
        // way that matters more than losing them: keep going with what is there.
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until every requested page has reached an end, and returns the progress
    /// then.
    pub async fn done(&self) -> Progress {
        let mut progress = self.subscribe();
        // The sender lives as long as `self`, so this cannot fail; keep the last value
        // if it somehow did.
        let done = match progress.wait_for(Progress::is_done).await {
            Ok(done) => *done,
            Err(_) => self.progress(),
        };
        done
    }

    /// Everything recorded so far.
    pub fn snapshot(&self) -> Record {
        let ledger = self.lock();
        let elapsed = match (ledger.started, ledger.finished) {
            (Some(started), Some(finished)) => finished - started,
            (Some(started), None) => started.elapsed(),
            _ => Duration::ZERO,
        };
        Record {
            progress: ledger.progress,
            elapsed,
            requested: ledger.requested.clone(),
            checks: ledger.checks.clone(),
            scrapes: ledger.scrapes.clone(),
            reports: ledger.reports.clone(),
        }
    }
}

/// A page being scraped (see [`Tally::scraping`]).
#[derive(Debug)]
pub(crate) struct InFlight<'a> {
    tally: &'a Tally,
    page: String,
    landed: bool,
}

impl InFlight<'_> {
    /// The scrape ended with `scraped`.
    pub(crate) fn finish(mut self, scraped: Scraped) {
        self.landed = true;
        let page = std::mem::take(&mut self.page);
        self.tally.update(|ledger| {
            ledger.progress.in_flight = ledger.progress.in_flight.saturating_sub(1);
            let outcome = match scraped {
                Scraped::Simulated => {
                    ledger.progress.scraped += 1;
                    PageOutcome::Scraped(None)
                }
                Scraped::Fetched(fetched) => {
                    ledger.progress.scraped += 1;
                    PageOutcome::Scraped(Some(fetched))
                }
                Scraped::Failed(why) => {
                    ledger.progress.failed += 1;
                    PageOutcome::Failed(why)
                }
            };
            ledger.reports.push(PageReport { page, outcome });
        });
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.landed {
            self.tally.update(|ledger| {
                ledger.progress.in_flight = ledger.progress.in_flight.saturating_sub(1);
            });
        }
    }
}

/// Everything a [`Tally`] recorded: counts, elapsed time, and per page.
#[derive(Debug, Clone)]
pub struct Record {
    /// The counts.
    pub progress: Progress,
    /// From the first request to the moment the last page reached an end (or to now,
    /// if some have not).
    pub elapsed: Duration,
    /// Every page requested, in request order.
    pub requested: Vec<String>,
    /// How many times each page's online check ran.
    pub checks: HashMap<String, usize>,
    /// How many times each page's scrape started.
    pub scrapes: HashMap<String, usize>,
    /// How each page ended, in the order they ended.
    pub reports: Vec<PageReport>,
}
