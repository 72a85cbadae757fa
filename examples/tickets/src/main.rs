//! `cargo run --release -p tickets`: the book's ticketing pipeline. By default it runs
//! sample bookings from the chapter's custom in-memory producer; `--amqp URL` consumes
//! RabbitMQ's `bookings_queue` instead, and `--publish N` fills that queue. It prints
//! processed / failed / acked counts and the throughput.

use std::process::ExitCode;

use arbor::app::logging::{LogFormat, Logging};
use clap::Parser;
use tickets::{amqp, Config};

/// The ticketing app of "Concurrent Data Processing in Elixir" (chapter 5), on arbor.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// How many bookings to process (and, with `--publish`, to publish).
    #[arg(short = 'n', long, default_value_t = 10_000)]
    count: u64,

    /// Consume from RabbitMQ at this URL (e.g. amqp://guest:guest@127.0.0.1:5672/%2f)
    /// instead of the in-memory producer.
    #[arg(long, value_name = "URL")]
    amqp: Option<String>,

    /// Publish N sample bookings to `bookings_queue` (at `--amqp`, or the local broker)
    /// and exit.
    #[arg(long, value_name = "N")]
    publish: Option<u64>,

    /// Processors [default: available parallelism × 2].
    #[arg(long)]
    processors: Option<usize>,

    /// RabbitMQ prefetch count: above the batch sizes together (225), or batches close
    /// by timeout instead of size.
    #[arg(long, default_value_t = 500)]
    prefetch_count: u16,

    /// How log lines are written: plain or json (colours only on a terminal).
    #[arg(long, default_value_t = LogFormat::Plain)]
    log_format: LogFormat,
}

const LOCAL_BROKER: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    // Errors only unless RUST_LOG says otherwise, as before (an unset RUST_LOG).
    if let Err(error) = Logging::new("error").format(args.log_format).init() {
        eprintln!("tickets: {error}");
        return ExitCode::FAILURE;
    }
    let config = Config {
        processors: args.processors,
        prefetch_count: args.prefetch_count,
        ..Config::new(args.count)
    };
    let outcome = match (args.publish, &args.amqp) {
        (Some(n), url) => {
            let url = url.as_deref().unwrap_or(LOCAL_BROKER);
            amqp::publish(url, amqp::QUEUE, n)
                .await
                .map(|()| {
                    println!("published {n} bookings to {}", amqp::QUEUE);
                    ExitCode::SUCCESS
                })
                .map_err(tickets::TicketsError::from)
        }
        (None, Some(url)) => tickets::run_amqp(url, config).await.map(print),
        (None, None) => tickets::run_in_memory(config).await.map(print),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            let mut message = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("tickets: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Prints the report; the exit code is its application's (0 after ctrl-c too).
fn print(report: tickets::Report) -> ExitCode {
    println!("{report}");
    report.outcome.exit_code()
}
