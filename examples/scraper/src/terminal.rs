//! Output for people: log lines, and in a terminal a live progress bar with the log
//! lines scrolling above it.

use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use arbor::app::logging::{LogFormat, Logging};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::watch;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// The log filter unless `RUST_LOG` gives one: the pipeline's `info` lines, and only
/// warnings from the supervisor (its start and stop reports are the OTP progress reports
/// Elixir's logger leaves out by default).
pub const DEFAULT_LOG_FILTER: &str = "info,arbor_supervisor=warn";

use crate::Progress;

/// Whether standard error is a terminal: then the run shows a progress bar; piped (or
/// under `cargo test`), plain log lines only.
pub fn stderr_is_terminal() -> bool {
    io::stderr().is_terminal()
}

/// Installs the `tracing` subscriber: [`DEFAULT_LOG_FILTER`] unless `RUST_LOG` says
/// otherwise, on standard error. Plain logs take the book's shape (`0.148s [info]
/// PageConsumer received google.com`, seconds since start); JSON logs are arbor's
/// application lines ([`Logging`]). With a progress `bar`, lines are printed above it
/// instead of through it, and coloured (a bar means a terminal).
pub fn init_tracing(bar: Option<&ProgressBar>, format: LogFormat) {
    let ansi = bar.is_some();
    // A second subscriber (in tests, say) is not an error worth stopping for.
    let _ = match (format, bar) {
        (LogFormat::Json, Some(bar)) => Logging::new(DEFAULT_LOG_FILTER)
            .format(format)
            .init_with(AboveBar { bar: bar.clone() }, ansi),
        (LogFormat::Json, None) => Logging::new(DEFAULT_LOG_FILTER)
            .format(format)
            .init_with(io::stderr, ansi),
        // The book's lines are the scraper's own format: `Logging` has no hook for it.
        (_, bar) => {
            init_book_lines(bar, ansi);
            Ok(())
        }
    };
}

fn init_book_lines(bar: Option<&ProgressBar>, ansi: bool) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Colour only in a terminal: piped logs stay plain text.
        .with_ansi(ansi)
        .event_format(BookLines {
            start: Instant::now(),
        });
    let _ = match bar {
        Some(bar) => builder
            .with_writer(AboveBar { bar: bar.clone() })
            .try_init(),
        None => builder.with_writer(io::stderr).try_init(),
    };
}

/// A progress bar on standard error: pages done of pages requested, rate, and in flight.
pub fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    let template = "{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} pages  {msg}";
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Keeps `bar` up to date with `progress` until the sender goes away.
pub async fn follow(bar: ProgressBar, mut progress: watch::Receiver<Progress>) {
    loop {
        let now = *progress.borrow_and_update();
        bar.set_length(u64::try_from(now.requested).unwrap_or(u64::MAX));
        bar.set_position(now.settled());
        // Pages that reached an end per second, since the bar appeared.
        #[allow(clippy::cast_precision_loss)]
        let rate = now.settled() as f64 / bar.elapsed().as_secs_f64().max(0.001);
        bar.set_message(format!(
            "{rate:.1} pages/s · {} in flight (peak {}) · {} online · {} offline",
            now.in_flight, now.peak_in_flight, now.online, now.offline
        ));
        if progress.changed().await.is_err() {
            return;
        }
    }
}

/// Makes writers that print each log line above the progress bar.
#[derive(Debug, Clone)]
struct AboveBar {
    bar: ProgressBar,
}

impl<'a> MakeWriter<'a> for AboveBar {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line {
            bar: self.bar.clone(),
            text: Vec::new(),
        }
    }
}

/// One log line, collected, then printed while the bar is hidden: the subscriber asks
/// for a writer per event and drops it when the event is written.
#[derive(Debug)]
struct Line {
    bar: ProgressBar,
    text: Vec<u8>,
}

impl Write for Line {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if self.text.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.text);
        self.bar.suspend(|| {
            // Nowhere to report a failed write to standard error.
            let _ = io::stderr().write_all(&text);
        });
    }
}

/// Formats events as the book's Logger lines: time, `[level]`, message and fields,
/// without the actor spans every arbor callback runs in.
#[derive(Debug)]
struct BookLines {
    start: Instant,
}

impl<S, N> FormatEvent<S, N> for BookLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = event.metadata().level().as_str().to_ascii_lowercase();
        write!(
            writer,
            "{:>8.3}s [{level}] {:pad$}",
            self.start.elapsed().as_secs_f64(),
            "",
            pad = 5 - level.len().min(5)
        )?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
