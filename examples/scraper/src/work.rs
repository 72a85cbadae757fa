//! The work a page needs: the book's `Scraper.work/0` and `Scraper.online?/1`, simulated
//! (the default) or done for real over HTTP.
//!
//! The simulation draws its numbers from the seed *and the page*, not from one shared
//! generator: stages handle pages in whatever order scheduling gives them, and a shared
//! generator would hand each page different numbers from run to run. Keyed draws make a
//! seed replay exactly the same pages online, and the same work times.

use std::ops::RangeInclusive;
use std::time::Duration;

use crate::http::{Fetched, HttpFetcher};

/// SplitMix64: a tiny seedable generator, good enough to pick work times and coin flips
/// (the book uses `Enum.random/1`; no `rand` dependency for that).
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `range` (both ends included).
    pub fn in_range(&mut self, range: &RangeInclusive<u32>) -> u32 {
        let (low, high) = (*range.start(), *range.end());
        if high <= low {
            return low;
        }
        let span = u64::from(high - low) + 1;
        // `span` is at most 2^32, so the remainder fits in a u32.
        low + u32::try_from(self.next_u64() % span).unwrap_or(0)
    }
}

/// What a draw is for: each purpose gets its own numbers for the same page.
#[derive(Debug, Clone, Copy)]
enum Draw {
    CheckTime = 1,
    Online = 2,
    ScrapeTime = 3,
}

/// Simulated work, as in the book: each piece of work takes 1 to 5 seconds at random,
/// and one page in three is offline.
#[derive(Debug, Clone)]
pub struct Simulation {
    seed: u64,
    time_scale: f64,
    check_seconds: RangeInclusive<u32>,
    scrape_seconds: RangeInclusive<u32>,
}

impl Simulation {
    /// The book's simulation (1 to 5 s of work per check and per scrape), with
    /// `time_scale` real seconds per simulated second (0.1: ten times faster than the
    /// book). A negative or non-finite scale counts as 0.
    pub fn new(seed: u64, time_scale: f64) -> Self {
        let time_scale = if time_scale.is_finite() && time_scale > 0.0 {
            time_scale
        } else {
            0.0
        };
        Simulation {
            seed,
            time_scale,
            check_seconds: 1..=5,
            scrape_seconds: 1..=5,
        }
    }

    /// Other work times, in simulated seconds, for the online check and for the scrape
    /// (the book uses 1..=5 for both). Tests use it to make one stage the bottleneck.
    pub fn with_work(
        mut self,
        check_seconds: RangeInclusive<u32>,
        scrape_seconds: RangeInclusive<u32>,
    ) -> Self {
        self.check_seconds = check_seconds;
        self.scrape_seconds = scrape_seconds;
        self
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Real seconds per simulated second.
    pub fn time_scale(&self) -> f64 {
        self.time_scale
    }

    /// Whether `page` is online in this simulation (two chances in three, as the
    /// book's `Enum.random([false, true, true])`). Pure: the same seed and page always
    /// give the same answer.
    pub fn is_online(&self, page: &str) -> bool {
        self.generator(page, Draw::Online).next_u64() % 3 != 0
    }

    /// How long the online check of `page` takes, in real time.
    pub fn check_time(&self, page: &str) -> Duration {
        self.work_time(page, Draw::CheckTime, &self.check_seconds)
    }

    /// How long scraping `page` takes, in real time.
    pub fn scrape_time(&self, page: &str) -> Duration {
        self.work_time(page, Draw::ScrapeTime, &self.scrape_seconds)
    }

    fn work_time(&self, page: &str, draw: Draw, seconds: &RangeInclusive<u32>) -> Duration {
        let seconds = self.generator(page, draw).in_range(seconds);
        Duration::from_secs_f64(f64::from(seconds) * self.time_scale)
    }

    /// A generator for one purpose of one page.
    fn generator(&self, page: &str, draw: Draw) -> SplitMix64 {
        // FNV-1a folds the page into the seed; SplitMix64 then scrambles the result.
        let mut hash: u64 = 0xCBF2_9CE4_8422_2325;
        for byte in page.bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01B3);
        }
        let mut generator = SplitMix64::new(self.seed ^ hash ^ (draw as u64).rotate_left(56));
        // One draw to spread nearby inputs before the numbers are used.
        generator.next_u64();
        generator
    }
}

/// What the online check found.
pub type Online = Result<(), String>;

/// What scraping a page gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scraped {
    /// The simulated scrape finished.
    Simulated,
    /// The page was fetched over HTTP (any status, 404 included).
    Fetched(Fetched),
    /// The fetch failed: no response, or the body could not be read.
    Failed(String),
}

/// How pages are checked and scraped.
#[derive(Debug, Clone)]
pub enum Work {
    /// Sleep and flip coins, as the book does.
    Simulated(Simulation),
    /// Fetch real pages: the online check is a `HEAD` request (any answer means
    /// online), the scrape a `GET`.
    Http(HttpFetcher),
}

impl Work {
    /// The book's `Scraper.online?/1`: `Ok` when `page` is online, or why not.
    pub async fn online(&self, page: &str) -> Online {
        match self {
            Work::Simulated(simulation) => {
                tokio::time::sleep(simulation.check_time(page)).await;
                if simulation.is_online(page) {
                    Ok(())
                } else {
                    Err("offline".to_owned())
                }
            }
            Work::Http(fetcher) => fetcher.online(page).await,
        }
    }

    /// The book's `Scraper.work/0`, done for `page`.
    pub async fn scrape(&self, page: &str) -> Scraped {
        match self {
            Work::Simulated(simulation) => {
                tokio::time::sleep(simulation.scrape_time(page)).await;
                Scraped::Simulated
            }
            Work::Http(fetcher) => match fetcher.fetch(page).await {
                Ok(fetched) => Scraped::Fetched(fetched),
                Err(error) => Scraped::Failed(error),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_depend_on_seed_and_page_only() {
        let simulation = Simulation::new(7, 1.0);
        let again = Simulation::new(7, 1.0);
        for page in ["google.com", "apple.com", "amazon.com"] {
            assert_eq!(simulation.is_online(page), again.is_online(page));
            assert_eq!(simulation.check_time(page), again.check_time(page));
        }
    }

    #[test]
    fn work_takes_one_to_five_scaled_seconds() {
        let simulation = Simulation::new(3, 0.5);
        for n in 0..200 {
            let time = simulation.scrape_time(&format!("page-{n}"));
            assert!(time >= Duration::from_millis(500) && time <= Duration::from_millis(2500));
        }
    }

    #[test]
    fn about_one_page_in_three_is_offline() {
        let simulation = Simulation::new(11, 1.0);
        let offline = (0..3000)
            .filter(|n| !simulation.is_online(&format!("page-{n}")))
            .count();
        assert!((800..1200).contains(&offline), "{offline} offline of 3000");
    }
}
