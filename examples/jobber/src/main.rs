//! `cargo run -p jobber`: the demo scenario (see `jobber::demo`), run as an arbor
//! application: ctrl-c or SIGTERM stops the tree in order, and the exit code says how
//! it ended (docs/guide-operations.md).

use std::process::ExitCode;
use std::time::Duration;

use arbor::app::logging::{LogFormat, Logging};
use arbor::app::Outcome;
use arbor::prelude::*;
use jobber::demo::{self, DemoOptions};
use jobber::{Jobber, JobberOptions};

const HELP: &str = "\
jobber: the book's job runner on arbor, as a demo

Runs good, bad and doomed (panicking) jobs under the JobRunner, shows that the JobRunner
survives the doomed job, enforces the import quota and prints the supervision tree.

USAGE:
    cargo run -p jobber -- [OPTIONS]

OPTIONS:
    --retry-delay-ms <MS>   wait before each retry of a failed job [default: 200; the book: 5000]
    --work-ms <MS>          how long one run of a job's work takes  [default: 100; the book: 5000]
    --log-format <FORMAT>   plain or json                            [default: plain]
    -h, --help              print this help

Logs go through tracing: the jobs' logs, and the supervisors' warnings and errors.
Set RUST_LOG to see more (e.g. RUST_LOG=info for every supervisor decision).
Colours only when stderr is a terminal. ctrl-c stops jobber cleanly (exit code 0).
";

/// How long jobber may take to stop once asked: its jobs' own shutdowns fit well within.
const STOP_DEADLINE: Duration = Duration::from_secs(10);

/// The command line: the demo's options and the log format.
#[derive(Debug, Default)]
struct Args {
    demo: DemoOptions,
    log_format: LogFormat,
}

/// The jobs' own logs, and only the supervisors' warnings and errors (crashes, a
/// supervisor giving up): the book's IEx session shows no more. `RUST_LOG` overrides it.
const DEFAULT_LOG_FILTER: &str = "info,arbor_supervisor=warn";

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{HELP}");
            return ExitCode::from(2);
        }
    };
    if let Err(error) = Logging::new(DEFAULT_LOG_FILTER)
        .format(args.log_format)
        .init()
    {
        eprintln!("error: {error}");
        return ExitCode::FAILURE;
    }
    // The doomed job panics on purpose, four times, and arbor reports each crash as an
    // error already. One line per panic, saying where, is enough beside that (the default
    // hook prints a backtrace per panic when RUST_BACKTRACE is set).
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(ToString::to_string).unwrap_or_default();
        tracing::warn!(%location, "panicked: {}", panic_message(info));
    }));
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the tokio runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(args.demo))
}

/// Runs the scenario until it ends or a signal stops jobber, whichever comes first.
async fn run(options: DemoOptions) -> ExitCode {
    let jobber = match Jobber::start_with(JobberOptions::new()).await {
        Ok(jobber) => jobber,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let app = match Application::of(jobber.root().clone())
        .deadline(STOP_DEADLINE)
        .start()
        .await
    {
        Ok(app) => app,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    let (scenario, outcome) = app
        .run_until(demo::scenario(&jobber, options, &mut stdout))
        .await;
    match scenario {
        Some(Err(error)) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
        // Ended, or dropped by a signal: the outcome says which.
        Some(Ok(_)) | None => report(outcome),
    }
}

fn report(outcome: Outcome) -> ExitCode {
    println!("\n== jobber {outcome}");
    outcome.exit_code()
}

fn panic_message(info: &std::panic::PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    payload
        .downcast_ref::<&str>()
        .map(|message| (*message).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(not a string)".to_owned())
}

/// The options, or `None` for `--help`.
fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut parsed = Args::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--retry-delay-ms" => parsed.demo.retry_delay = millis(&arg, args.next())?,
            "--work-ms" => parsed.demo.work_time = millis(&arg, args.next())?,
            "--log-format" => {
                let value = args.next().ok_or("--log-format needs plain or json")?;
                parsed.log_format = value.parse().map_err(|error| format!("{error}"))?;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(parsed))
}

fn millis(flag: &str, value: Option<String>) -> Result<Duration, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value in milliseconds"))?;
    value
        .parse()
        .map(Duration::from_millis)
        .map_err(|_| format!("{flag}: {value:?} is not a whole number of milliseconds"))
}
