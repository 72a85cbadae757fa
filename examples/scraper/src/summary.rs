//! The summary printed at the end of a run.

use std::collections::HashMap;
use std::fmt;

use crate::tally::{PageOutcome, PageReport, Record};
use crate::work::{Simulation, Work};
use crate::Config;

/// What a run did: what the tally recorded, and the run's shape.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The counts, the time and how each page ended.
    pub record: Record,
    /// The consumer supervisor's `max_demand` on each producer-consumer.
    pub max_demand: usize,
    /// How many producer-consumers ran.
    pub producer_consumers: usize,
    /// The simulation, in simulated mode.
    pub simulation: Option<Simulation>,
}

impl Summary {
    pub(crate) fn new(record: Record, config: &Config) -> Self {
        let simulation = match &config.work {
            Work::Simulated(simulation) => Some(simulation.clone()),
            Work::Http(_) => None,
        };
        Summary {
            record,
            max_demand: config.max_demand,
            producer_consumers: config.producer_consumers,
            simulation,
        }
    }

    /// The most pages the consumer supervisor may run at once: `max_demand` from each
    /// producer-consumer.
    pub fn in_flight_bound(&self) -> usize {
        self.max_demand.saturating_mul(self.producer_consumers)
    }

    /// How `page` ended (its first report), if it did.
    pub fn outcome(&self, page: &str) -> Option<&PageOutcome> {
        self.record
            .reports
            .iter()
            .find(|report| report.page == page)
            .map(|report| &report.outcome)
    }

    /// The reports in request order (the order they ended breaks ties).
    fn reports_in_request_order(&self) -> Vec<&PageReport> {
        let mut position: HashMap<&str, usize> = HashMap::new();
        for (index, page) in self.record.requested.iter().enumerate() {
            position.entry(page.as_str()).or_insert(index);
        }
        let mut reports: Vec<&PageReport> = self.record.reports.iter().collect();
        reports.sort_by_key(|report| {
            position
                .get(report.page.as_str())
                .copied()
                .unwrap_or(usize::MAX)
        });
        reports
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let progress = &self.record.progress;
        if self.simulation.is_none() {
            for report in self.reports_in_request_order() {
                writeln!(f, "{}", PageLine(report))?;
            }
            if !self.record.reports.is_empty() {
                writeln!(f)?;
            }
        }
        writeln!(f, "pages requested  {}", progress.requested)?;
        writeln!(f, "online           {}", progress.online)?;
        writeln!(f, "offline          {}", progress.offline)?;
        writeln!(f, "scraped          {}", progress.scraped)?;
        if progress.failed > 0 || self.simulation.is_none() {
            writeln!(f, "failed           {}", progress.failed)?;
        }
        if progress.discarded > 0 {
            writeln!(
                f,
                "discarded        {} (PageProducer's buffer was full)",
                progress.discarded
            )?;
        }
        writeln!(f, "elapsed          {:.2?}", self.record.elapsed)?;
        write!(
            f,
            "peak in flight   {} (max_demand {} × {} producer-consumers: at most {})",
            progress.peak_in_flight,
            self.max_demand,
            self.producer_consumers,
            self.in_flight_bound()
        )?;
        if let Some(simulation) = &self.simulation {
            write!(
                f,
                "\nsimulation       seed {}, time scale {} (same pages online, same times: --seed {} --time-scale {})",
                simulation.seed(),
                simulation.time_scale(),
                simulation.seed(),
                simulation.time_scale()
            )?;
        }
        Ok(())
    }
}

/// One line of the real-mode report.
struct PageLine<'a>(&'a PageReport);

impl fmt::Display for PageLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let PageReport { page, outcome } = self.0;
        match outcome {
            PageOutcome::Scraped(Some(fetched)) => {
                write!(
                    f,
                    "{:<7} {:>9}  {page}",
                    fetched.status,
                    Bytes(fetched.bytes)
                )?;
                match &fetched.title {
                    Some(title) => write!(f, "  {title:?}"),
                    None => write!(f, "  (no title)"),
                }
            }
            PageOutcome::Scraped(None) => write!(f, "{:<7} {:>9}  {page}", "scraped", ""),
            PageOutcome::Offline(why) => write!(f, "{:<7} {:>9}  {page}  {why}", "offline", ""),
            PageOutcome::Failed(why) => write!(f, "{:<7} {:>9}  {page}  {why}", "failed", ""),
        }
    }
}

/// A size for people: bytes, KiB or MiB.
struct Bytes(usize);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Precision loss is irrelevant at one decimal.
        #[allow(clippy::cast_precision_loss)]
        let size = self.0 as f64;
        let text = if self.0 < 1024 {
            format!("{} B", self.0)
        } else if self.0 < 1024 * 1024 {
            format!("{:.1} KiB", size / 1024.0)
        } else {
            format!("{:.1} MiB", size / (1024.0 * 1024.0))
        };
        f.pad(&text)
    }
}
