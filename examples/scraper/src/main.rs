//! `cargo run --release -p scraper`: the book's scraper pipeline, simulated (default) or
//! fetching real pages (`scraper https://example.com/`). `--help` lists the options.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;
use scraper::{terminal, Config, HttpFetcher, Scraper, ScraperError, Simulation, Work};

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
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("scraper: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), ScraperError> {
    let bar = terminal::stderr_is_terminal().then(terminal::progress_bar);
    terminal::init_tracing(bar.as_ref());
    if args.dispatchers {
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        return dispatcher_demos().await;
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
    let follower = bar
        .clone()
        .map(|bar| tokio::spawn(terminal::follow(bar, scraper.progress())));
    scraper.scrape_pages(pages).await?;
    scraper.done().await;
    let summary = scraper.stop().await;
    if let Some(follower) = follower {
        follower.abort();
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    println!("{summary}");
    Ok(())
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
