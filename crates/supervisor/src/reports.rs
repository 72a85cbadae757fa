//! A per-child budget for crash and restart reports, so that a crash loop (with a high
//! `max_restarts`) cannot flood the log: each child may write `REPORT_BURST` report
//! lines per `REPORT_WINDOW`; the rest are counted, and the count is logged when reports
//! flow again, or when the supervisor stops.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

/// Report lines a child may write per window.
pub(crate) const REPORT_BURST: u32 = 10;
/// The window the burst is counted over.
pub(crate) const REPORT_WINDOW: Duration = Duration::from_secs(10);
/// Children tracked before idle budgets are dropped (a DynamicSupervisor may see many ids).
const TRACKED: usize = 1024;

#[derive(Debug)]
struct Budget {
    since: Instant,
    written: u32,
    suppressed: u64,
}

/// A per-child budget for crash and restart reports, by child id: at most 10 report lines
/// per child every 10 s; the reports left out are counted and their count is logged.
/// How Supervisor and DynamicSupervisor keep a crash loop from flooding the log, for
/// supervisors of your own (a consumer supervisor).
///
/// # Examples
///
/// ```
/// use arbor_supervisor::Reports;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut reports = Reports::default();
/// let written = (0..100).filter(|_| reports.allow("my_supervisor", "job")).count();
/// assert_eq!(written, 10);
/// reports.flush("my_supervisor"); // logs that 90 reports of "job" were left out
/// # }
/// ```
#[derive(Debug, Default)]
pub struct Reports {
    children: HashMap<String, Budget>,
}

impl Reports {
    /// Whether a report about `child` may be written now. Logs the first report left out
    /// in a window, and, with the first report written after some were left out, how
    /// many were.
    pub fn allow(&mut self, supervisor: &str, child: &str) -> bool {
        let now = Instant::now();
        if self.children.len() >= TRACKED {
            self.children.retain(|_, budget| {
                budget.suppressed > 0 || now.saturating_duration_since(budget.since) < REPORT_WINDOW
            });
        }
        // Looked up before inserting: a child that crashes again costs no copy of its id.
        if let Some(budget) = self.children.get_mut(child) {
            return charge(budget, now, supervisor, child);
        }
        let fresh = Budget {
            since: now,
            written: 0,
            suppressed: 0,
        };
        let budget = self.children.entry(child.to_owned()).or_insert(fresh);
        charge(budget, now, supervisor, child)
    }

    /// Logs the reports still left out, child by child (the supervisor is stopping).
    pub fn flush(&mut self, supervisor: &str) {
        for (child, budget) in self.children.drain() {
            if budget.suppressed > 0 {
                tracing::warn!(supervisor = %supervisor, child = %child, suppressed = budget.suppressed, "crash and restart reports of this child were suppressed");
            }
        }
    }
}

/// Counts one report against `budget`: whether it may be written.
fn charge(budget: &mut Budget, now: Instant, supervisor: &str, child: &str) -> bool {
    if now.saturating_duration_since(budget.since) >= REPORT_WINDOW {
        budget.since = now;
        budget.written = 0;
        let suppressed = std::mem::take(&mut budget.suppressed);
        if suppressed > 0 {
            tracing::warn!(supervisor = %supervisor, child = %child, suppressed, "crash and restart reports of this child were suppressed");
        }
    }
    if budget.written < REPORT_BURST {
        budget.written += 1;
        return true;
    }
    budget.suppressed += 1;
    if budget.suppressed == 1 {
        tracing::warn!(
            supervisor = %supervisor,
            child = %child,
            burst = REPORT_BURST,
            window = ?REPORT_WINDOW,
            "too many crash and restart reports for this child; suppressing them for the rest of the window"
        );
    }
    false
}

impl Reports {
    /// Logs that `child` of `supervisor` exited with `exit`, as arbor's supervisors do: an
    /// abnormal exit as a crash report (`error`), rate-limited per child through
    /// [`Reports::allow`]; a normal one at `normal` level, which the caller picks (a static
    /// supervisor's children are few and named, a dynamic one's many).
    pub fn child_exited(
        &mut self,
        supervisor: &str,
        child: &str,
        exit: &arbor_actor::Exit,
        normal: tracing::Level,
    ) {
        if exit.is_abnormal() {
            if self.allow(supervisor, child) {
                tracing::error!(supervisor = %supervisor, child = %child, reason = %exit, "child terminated");
            }
        } else if normal == tracing::Level::INFO {
            tracing::info!(supervisor = %supervisor, child = %child, reason = %exit, "child exited");
        } else {
            tracing::debug!(supervisor = %supervisor, child = %child, reason = %exit, "child exited");
        }
    }
}
