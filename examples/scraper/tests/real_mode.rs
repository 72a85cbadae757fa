//! Real mode against a local HTTP server started inside the test: status, size and title
//! of each page; a 404, a refused connection and a broken response are reported, and the
//! run still ends. No outside network.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use scraper::{run, Config, Fetched, HttpFetcher, PageOutcome, Work};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const HOME: &str = "<html><head><title>Home page</title></head><body>hello</body></html>";
const ABOUT: &str = "<html><head><TITLE>\n  About &amp; more\n</TITLE></head></html>";
const NOT_FOUND: &str = "<html><title>Not Found</title><p>nothing here</p></html>";

/// Fails instead of hanging if the pipeline stalls.
async fn within<T>(work: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), work)
        .await
        .expect("the pipeline stalled")
}

/// Requests seen, as "METHOD /path".
type Seen = Arc<Mutex<Vec<String>>>;

/// A minimal HTTP/1.1 server: one request per connection, `Connection: close`.
/// `/` and `/about` are pages, `/broken` answers HEAD but hangs up on GET without a
/// response, anything else is a 404.
async fn serve() -> (SocketAddr, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(respond(socket, Arc::clone(&log)));
        }
    });
    (address, seen)
}

async fn respond(mut socket: TcpStream, seen: Seen) {
    let mut request = Vec::new();
    let mut chunk = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&chunk[..n]),
        }
    }
    let head = String::from_utf8_lossy(&request);
    let mut words = head.split_whitespace();
    let method = words.next().unwrap_or("").to_owned();
    let path = words.next().unwrap_or("").to_owned();
    seen.lock().unwrap().push(format!("{method} {path}"));
    let (status, body) = match path.as_str() {
        "/" => ("200 OK", HOME),
        "/about" => ("200 OK", ABOUT),
        "/broken" if method == "GET" => return, // hang up: no response at all
        "/broken" => ("200 OK", ""),
        _ => ("404 Not Found", NOT_FOUND),
    };
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if method != "HEAD" {
        response.push_str(body);
    }
    let _ = socket.write_all(response.as_bytes()).await;
    let _ = socket.shutdown().await;
}

/// An address nothing listens on: bound, then closed.
async fn refused_address() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_mode_reports_status_size_and_title_and_survives_failures() {
    let (server, seen) = serve().await;
    let refused = refused_address().await;
    let home = format!("http://{server}/");
    let about = format!("http://{server}/about");
    let missing = format!("http://{server}/missing");
    let broken = format!("http://{server}/broken");
    let down = format!("http://{refused}/");
    let pages = vec![
        home.clone(),
        about.clone(),
        missing.clone(),
        broken.clone(),
        down.clone(),
    ];

    let fetcher = HttpFetcher::new(Duration::from_secs(5)).unwrap();
    let config = Config::new(Work::Http(fetcher)).max_demand(2);
    let summary = within(run(config, pages.clone())).await.unwrap();

    let fetched = |page: &str| match summary.outcome(page) {
        Some(PageOutcome::Scraped(Some(fetched))) => fetched.clone(),
        other => panic!("{page}: {other:?}"),
    };
    assert_eq!(
        fetched(&home),
        Fetched {
            status: 200,
            bytes: HOME.len(),
            title: Some("Home page".into())
        }
    );
    assert_eq!(
        fetched(&about),
        Fetched {
            status: 200,
            bytes: ABOUT.len(),
            title: Some("About & more".into())
        }
    );
    assert_eq!(
        fetched(&missing),
        Fetched {
            status: 404,
            bytes: NOT_FOUND.len(),
            title: Some("Not Found".into())
        }
    );
    match summary.outcome(&broken) {
        Some(PageOutcome::Failed(why)) => assert!(!why.is_empty()),
        other => panic!("broken: {other:?}"),
    }
    match summary.outcome(&down) {
        Some(PageOutcome::Offline(why)) => {
            assert!(why.to_lowercase().contains("refused"), "{why}")
        }
        other => panic!("down: {other:?}"),
    }

    let progress = summary.record.progress;
    assert_eq!(progress.requested, 5);
    assert_eq!((progress.online, progress.offline), (4, 1));
    assert_eq!((progress.scraped, progress.failed), (3, 1));
    assert!(progress.peak_in_flight <= summary.in_flight_bound());

    // Each reachable page: one HEAD (the online check), then one GET (the scrape).
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    assert_eq!(
        seen,
        [
            "GET /",
            "GET /about",
            "GET /broken",
            "GET /missing",
            "HEAD /",
            "HEAD /about",
            "HEAD /broken",
            "HEAD /missing",
        ]
    );

    // The report lists every page in request order, with what happened to it.
    let text = summary.to_string();
    let lines: Vec<&str> = text.lines().take(5).collect();
    assert!(
        lines[0].starts_with("200") && lines[0].contains("\"Home page\""),
        "{text}"
    );
    assert!(
        lines[2].starts_with("404") && lines[2].contains(&missing),
        "{text}"
    );
    assert!(
        lines[3].starts_with("failed") && lines[3].contains(&broken),
        "{text}"
    );
    assert!(
        lines[4].starts_with("offline") && lines[4].contains(&down),
        "{text}"
    );
    assert!(text.contains("failed           1"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_pages_are_fetched_once_each_under_back_pressure() {
    let (server, seen) = serve().await;
    let pages: Vec<String> = (0..40)
        .map(|n| format!("http://{server}/page/{n}"))
        .collect();
    let fetcher = HttpFetcher::new(Duration::from_secs(5)).unwrap();
    let config = Config::new(Work::Http(fetcher)).max_demand(3);
    let summary = within(run(config, pages.clone())).await.unwrap();
    assert_eq!(summary.record.progress.scraped, 40);
    assert!(summary.record.progress.peak_in_flight <= 6);
    let seen = seen.lock().unwrap();
    let mut per_request: HashMap<&str, usize> = HashMap::new();
    for request in seen.iter() {
        *per_request.entry(request).or_default() += 1;
    }
    for page in &pages {
        let path = page.trim_start_matches(&format!("http://{server}"));
        assert_eq!(per_request.get(format!("HEAD {path}").as_str()), Some(&1));
        assert_eq!(per_request.get(format!("GET {path}").as_str()), Some(&1));
    }
}
