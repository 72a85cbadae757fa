//! What a run prints: processed, failed and acknowledged counts, and throughput.

use std::fmt;
use std::time::Duration;

use arbor::app::{Outcome, Trigger};

/// The outcome of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Where the bookings came from.
    pub source: String,
    /// Messages acknowledged as successful (tickets inserted).
    pub processed: u64,
    /// Messages acknowledged as failed (malformed, sold out), redeliveries included.
    pub failed: u64,
    /// Acknowledgements sent, of any kind.
    pub acked: u64,
    /// Tickets the store inserted.
    pub tickets: u64,
    /// Confirmation emails sent.
    pub emails: u64,
    /// From start until every booking was acknowledged, or until the run was stopped.
    pub elapsed: Duration,
    /// How the pipeline's application ended: `Stopped` by `Trigger::Finished` once every
    /// booking was acknowledged, by a signal when ctrl-c or SIGTERM came first.
    pub outcome: Outcome,
}

impl Report {
    /// Messages per second, acknowledged.
    pub fn throughput(&self) -> f64 {
        self.acked as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "source:     {}", self.source)?;
        writeln!(f, "processed:  {}", self.processed)?;
        writeln!(f, "failed:     {}", self.failed)?;
        writeln!(f, "acked:      {}", self.acked)?;
        writeln!(
            f,
            "tickets:    {} inserted, {} emails sent",
            self.tickets, self.emails
        )?;
        write!(
            f,
            "throughput: {:.0} messages/s ({:.3} s)",
            self.throughput(),
            self.elapsed.as_secs_f64()
        )?;
        if self.outcome
            != (Outcome::Stopped {
                trigger: Trigger::Finished,
            })
        {
            write!(f, "\nended early: {}", self.outcome)?;
        }
        Ok(())
    }
}
