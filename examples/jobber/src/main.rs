//! `cargo run -p jobber`: the demo scenario (see `jobber::demo`).

use std::process::ExitCode;
use std::time::Duration;

use jobber::demo::{self, DemoOptions};

const HELP: &str = "\
jobber: the book's job runner on arbor, as a demo

Runs good, bad and doomed (panicking) jobs under the JobRunner, shows that the JobRunner
survives the doomed job, enforces the import quota and prints the supervision tree.

USAGE:
    cargo run -p jobber -- [OPTIONS]

OPTIONS:
    --retry-delay-ms <MS>   wait before each retry of a failed job [default: 200; the book: 5000]
    --work-ms <MS>          how long one run of a job's work takes  [default: 100; the book: 5000]
    -h, --help              print this help

Logs go through tracing: the jobs' logs, and the supervisors' warnings and errors.
Set RUST_LOG to see more (e.g. RUST_LOG=info for every supervisor decision).
";

/// The jobs' own logs, and only the supervisors' warnings and errors (crashes, a
/// supervisor giving up): the book's IEx session shows no more. `RUST_LOG` overrides it.
const DEFAULT_LOG_FILTER: &str = "info,arbor_supervisor=warn";

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{HELP}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER)),
        )
        .init();
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
    let mut stdout = std::io::stdout();
    match runtime.block_on(demo::run(options, &mut stdout)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
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
fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<DemoOptions>, String> {
    let mut options = DemoOptions::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--retry-delay-ms" => options.retry_delay = millis(&arg, args.next())?,
            "--work-ms" => options.work_time = millis(&arg, args.next())?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(options))
}

fn millis(flag: &str, value: Option<String>) -> Result<Duration, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value in milliseconds"))?;
    value
        .parse()
        .map(Duration::from_millis)
        .map_err(|_| format!("{flag}: {value:?} is not a whole number of milliseconds"))
}
