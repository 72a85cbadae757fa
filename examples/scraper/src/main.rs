//! `cargo run --release -p scraper`: the book's scraper pipeline, simulated (default) or
//! fetching real pages (`scraper https://example.com/`), run as an arbor application:
//! ctrl-c or SIGTERM stops the tree in order, and the exit code says how it ended.
//! `--observe 127.0.0.1:9000` serves the live web view of the tree. `--help` lists the
//! options.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arbor::app::logging::LogFormat;
use arbor::observer::Observer;
use arbor::prelude::*;
use clap::Parser;
use indicatif::ProgressBar;
use scraper::{terminal, Config, HttpFetcher, Scraper, ScraperError, Simulation, Work};

/// How long the pipeline may take to stop once asked: pages being scraped are abandoned,
/// so its stages stop at once.
const STOP_DEADLINE: Duration = Duration::from_secs(10);

/// The GenStage scraper from "Concurrent Data Processing in Elixir", on arbor.
///
/// PageProducer → OnlinePageProducerConsumer ×2 → PageConsumerSupervisor → one task per
/// page, with back-pressure all the way. With no URLs, the work is simulated as in the
/// book (1–5 s per check and per scrape, one page in three offline); with URLs, each page
/// is checked with HEAD and fetched with GET, and its status, size and title reported.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// http(s) URLs to fetch for real (real mode). None: simulated mode.
    urls: Vec<String>,

    /// A file of URLs to fetch, one per line (`#` starts a comment line).
    #[arg(long, value_name = "FILE")]
    urls_file: Option<PathBuf>,

    /// Simulated mode: how many pages to scrape.
    #[arg(short = 'n', long, default_value_t = 50)]
    pages: usize,

    /// Simulated mode: real seconds per simulated second (the book's work takes 1–5 s;
    /// 0.1 makes it 0.1–0.5 s).
    #[arg(long, default_value_t = 0.1)]
    time_scale: f64,

    /// Simulated mode: the seed that decides which pages are online and how long work
    /// takes [default: random, printed in the summary].
    #[arg(long)]
    seed: Option<u64>,

    /// The consumer supervisor's max_demand on each producer-consumer: pages scraped at
    /// once per producer-consumer [default: available parallelism × 2].
    #[arg(long)]
    max_demand: Option<usize>,

    /// How many OnlinePageProducerConsumers check pages side by side.
    #[arg(long, default_value_t = 2)]
    producer_consumers: usize,

    /// PageProducer's buffer size; pages beyond it are discarded and counted (try 1, as
    /// the book does).
    #[arg(long, default_value_t = 10_000)]
    buffer_size: usize,

    /// Real mode: seconds before a request gives up.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,

    /// The book's end of chapter 4: the online filter runs as a Flow (from_stages on
    /// PageProducer, into_stages to PageConsumerSupervisor) instead of the
    /// OnlinePageProducerConsumers (`--producer-consumers` sets its stages).
    #[arg(long)]
    flow: bool,

    /// Run the dispatcher demos (BroadcastDispatcher with a selector, then
    /// PartitionDispatcher) instead of the scraper.
    #[arg(long)]
    dispatchers: bool,

    /// Serve the live web view of the tree (arbor's observer) at this address, and keep
    /// running once the pages are done, until ctrl-c.
    #[arg(long, value_name = "ADDR")]
    observe: Option<SocketAddr>,

    /// With --observe: let the page stop and restart children. The token it needs is
    /// printed at start (in the page's address).
    #[arg(long, requires = "observe")]
    observe_actions: bool,

    /// With --observe: serve an address that is not loopback (anyone who reaches it sees
    /// the tree).
    #[arg(long, requires = "observe")]
    observe_non_loopback: bool,

    /// Log lines: plain (the book's shape) or json.
    #[arg(long, default_value_t = LogFormat::Plain)]
    log_format: LogFormat,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("scraper: cannot start the tokio runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(exit) => exit,
        Err(error) => {
            eprintln!("scraper: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<ExitCode, ScraperError> {
    let bar = terminal::stderr_is_terminal().then(terminal::progress_bar);
    terminal::init_tracing(bar.as_ref(), args.log_format);
    if args.dispatchers {
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        dispatcher_demos().await?;
        return Ok(ExitCode::SUCCESS);
    }

    let (work, pages) = work_and_pages(&args)?;
    let mut config = Config::new(work)
        .producer_consumers(args.producer_consumers)
        .buffer_size(args.buffer_size)
        .flow(args.flow);
    if let Some(max_demand) = args.max_demand {
        config = config.max_demand(max_demand);
    }

    let scraper = Scraper::start(config).await?;
    let app = Application::of(scraper.supervisor().clone())
        .deadline(STOP_DEADLINE)
        .start()
        .await?;
    let observer = match args.observe {
        Some(addr) => Some(observe(&args, addr, &scraper, bar.as_ref()).await?),
        None => None,
    };
    let follower = bar
        .clone()
        .map(|bar| tokio::spawn(terminal::follow(bar, scraper.progress())));
    let (scraped, outcome) = app
        .run_until(scrape(&scraper, pages, observer.is_some()))
        .await;
    if let Some(follower) = follower {
        follower.abort();
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if let Some(observer) = observer {
        observer.stop().await;
    }
    // Ended, or cut short by a signal: the summary says what was done, the outcome how.
    scraped.transpose()?;
    println!("{}", scraper.summary());
    if !matches!(
        outcome,
        arbor::app::Outcome::Stopped {
            trigger: Trigger::Finished
        }
    ) {
        println!("scraper {outcome}");
    }
    Ok(outcome.exit_code())
}

/// The main job: every page to an end. When observed, the tree then stays up (to be
/// looked at) until ctrl-c.
async fn scrape(scraper: &Scraper, pages: Vec<String>, observed: bool) -> Result<(), ScraperError> {
    scraper.scrape_pages(pages).await?;
    scraper.done().await;
    if observed {
        eprintln!("scraper: every page is done; the observer stays up until ctrl-c");
        std::future::pending::<()>().await;
    }
    Ok(())
}

/// Starts the observer on the pipeline's tree and prints where it is (with the actions
/// token: printed, never logged).
async fn observe(
    args: &Args,
    addr: SocketAddr,
    scraper: &Scraper,
    bar: Option<&ProgressBar>,
) -> Result<Observer, ScraperError> {
    let mut builder = Observer::builder(scraper.supervisor().clone())
        .bind(addr)
        .install_prometheus();
    if args.observe_actions {
        builder = builder.enable_actions();
    }
    if args.observe_non_loopback {
        builder = builder.allow_non_loopback();
    }
    let observer = builder.start().await?;
    let line = match observer.token() {
        Some(_) => format!(
            "scraper: observer at {} (actions enabled; the token is in the address)",
            observer.url_with_token()
        ),
        None => format!("scraper: observer at {} (read-only)", observer.url()),
    };
    match bar {
        Some(bar) => bar.suspend(|| eprintln!("{line}")),
        None => eprintln!("{line}"),
    }
    Ok(observer)
}

/// Real mode when URLs are given, simulated otherwise.
fn work_and_pages(args: &Args) -> Result<(Work, Vec<String>), ScraperError> {
    let mut urls = Vec::new();
    for url in &args.urls {
        scraper::check_url(url)?;
        urls.push(url.clone());
    }
    if let Some(path) = &args.urls_file {
        let text = std::fs::read_to_string(path).map_err(|error| ScraperError::BadUrl {
            url: path.display().to_string(),
            why: format!("cannot read the URL file: {error}"),
        })?;
        urls.extend(scraper::parse_url_list(&text)?);
    }
    if urls.is_empty() && (!args.urls.is_empty() || args.urls_file.is_some()) {
        return Err(ScraperError::Config("no URLs to fetch"));
    }
    if !urls.is_empty() {
        let timeout = Duration::try_from_secs_f64(args.timeout)
            .map_err(|_| ScraperError::Config("--timeout must be a positive number of seconds"))?;
        return Ok((Work::Http(HttpFetcher::new(timeout)?), urls));
    }
    let seed = args.seed.unwrap_or_else(|| {
        // Any seed will do; the summary prints it so the run can be replayed.
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        scraper::SplitMix64::new(u64::from(now.subsec_nanos()) ^ now.as_secs()).next_u64()
            % 1_000_000
    });
    let simulation = Simulation::new(seed, args.time_scale);
    Ok((
        Work::Simulated(simulation),
        scraper::simulated_pages(args.pages),
    ))
}

/// The book's "Choosing the Right Dispatcher", run.
async fn dispatcher_demos() -> Result<(), ScraperError> {
    let (broadcast, partition) = scraper::dispatcher_demos().await?;
    println!("BroadcastDispatcher (SelectedPagesConsumer's selector: pages ending in .org)");
    println!("  AllPagesConsumer       {:?}", broadcast.everything);
    println!("  SelectedPagesConsumer  {:?}", broadcast.selected);
    println!("PartitionDispatcher (hash: partition by top-level domain, others dropped)");
    for (name, received) in &partition.partitions {
        println!("  partition {name:<4} {received:?}");
    }
    Ok(())
}
