//! `cargo run -p sender`: the chapter's ways of sending emails, timed side by side.
//! `--help` lists the options.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use arbor::app::logging::{LogFormat, Logging};
use arbor::prelude::*;
use clap::{Parser, ValueEnum};
use sender::{App, Demo, Report, Variant};

/// The email sender from "Concurrent Data Processing in Elixir" (chapter 1), on arbor.
///
/// Sends one simulated email per user in each of the chapter's ways: one after the
/// other, fire-and-forget tasks, tasks awaited one by one, an async stream with bounded
/// concurrency, and the same stream under a task supervisor, which also gets an address
/// that crashes its task. Prints each way's time and how many sends ran at once.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// How many users get an email.
    #[arg(long, default_value_t = 20)]
    users: usize,

    /// How many sends the stream variants run at once [default: available parallelism].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    concurrency: Option<u64>,

    /// How long one send takes, in milliseconds (the book's: 3000).
    #[arg(long, default_value_t = 100)]
    delay_ms: u64,

    /// Which variant to run.
    #[arg(long, value_enum, default_value_t = Which::All)]
    variant: Which,

    /// How log lines are written: plain or json (colours only on a terminal).
    #[arg(long, default_value_t = LogFormat::Plain)]
    log_format: LogFormat,
}

/// The `--variant` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    /// Every variant, in the chapter's order.
    All,
    /// One email after the other.
    Sequential,
    /// Fire-and-forget tasks (Task::start).
    Start,
    /// A task per email, each awaited (Task::spawn + await).
    Async,
    /// Task::async_stream: at most --concurrency at once.
    Stream,
    /// TaskSupervisor::async_stream_nolink, with an address that crashes its task.
    Supervised,
}

impl Which {
    fn variants(self) -> Vec<Variant> {
        match self {
            Which::All => Variant::ALL.to_vec(),
            Which::Sequential => vec![Variant::Sequential],
            Which::Start => vec![Variant::Start],
            Which::Async => vec![Variant::Async],
            Which::Stream => vec![Variant::Stream],
            Which::Supervised => vec![Variant::Supervised],
        }
    }
}

/// Only warnings and errors by default: the crash of the bad address's task is one.
/// `RUST_LOG=debug` shows every email sent, as the book's `IO.puts` does.
const DEFAULT_LOG_FILTER: &str = "warn";

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(error) = Logging::new(DEFAULT_LOG_FILTER)
        .format(args.log_format)
        .init()
    {
        eprintln!("sender: {error}");
        return ExitCode::FAILURE;
    }
    // The bad address panics on purpose and the task supervisor logs the crash; one line
    // saying where is enough beside it, not the default hook's message and backtrace.
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(ToString::to_string).unwrap_or_default();
        tracing::warn!(%location, "a send panicked");
    }));
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("sender: cannot start the tokio runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("sender: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the variants as an arbor application: ctrl-c stops the tree in order and ends
/// the run early with exit code 0.
async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let concurrency = match args.concurrency {
        Some(concurrency) => usize::try_from(concurrency).context("--concurrency")?,
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    let demo = Demo {
        users: args.users,
        concurrency,
        delay: Duration::from_millis(args.delay_ms),
    };
    println!(
        "sending to {} users, {} ms per email, streams at most {} at once",
        demo.users, args.delay_ms, demo.concurrency
    );
    let app = App::start().await?;
    let running = Application::of(app.supervisor().clone()).start().await?;
    let (variants, outcome) = running
        .run_until(run_variants(&demo, &app, args.variant))
        .await;
    if let Some(result) = variants {
        result?;
    } else {
        println!("{outcome}");
    }
    Ok(outcome.exit_code())
}

/// Runs each variant of `which` and prints its row.
async fn run_variants(demo: &Demo, app: &App, which: Which) -> anyhow::Result<()> {
    print_header();
    let mut baseline = None;
    for variant in which.variants() {
        let report = demo.run(app, variant).await?;
        print_row(&report, baseline.as_ref());
        if variant == Variant::Sequential {
            baseline = Some(report);
        }
    }
    Ok(())
}

/// The table's header; [`print_row`] writes its rows.
fn print_header() {
    println!(
        "{:<11} {:>5} {:>7} {:>9} {:>8} {:>9}  with",
        "variant", "sent", "failed", "elapsed", "at once", "speed-up"
    );
}

fn print_row(report: &Report, baseline: Option<&Report>) {
    let speed_up = baseline
        .and_then(|baseline| report.speed_up_over(baseline))
        .map(|times| format!("{times:.1}x"))
        .unwrap_or_else(|| "-".to_owned());
    println!(
        "{:<11} {:>5} {:>7} {:>8.3}s {:>8} {:>9}  {}",
        report.variant.name(),
        report.sent.len(),
        report.failed.len(),
        report.elapsed.as_secs_f64(),
        report.peak_in_flight,
        speed_up,
        report.variant.shows(),
    );
    if let Some(returned_after) = report.returned_after {
        println!(
            "{:<11} notify_start returned after {:.3}s, before any email was sent",
            "",
            returned_after.as_secs_f64()
        );
    }
    for (address, why) in &report.failed {
        println!("{:<11} failed: {address}: {why}", "");
    }
}
