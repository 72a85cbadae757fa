//! The page in a real browser: headless Chromium driven through chromedriver
//! (`cargo test -p arbor-observer --features browser-tests`; `.ci/run` installs Debian's
//! `chromium` and `chromium-driver` when they are missing).
//!
//! `CHROMEDRIVER` and `CHROMIUM` override where the two programs are found.

mod support;

use std::net::TcpListener;
use std::process::Stdio;
use std::time::Duration;

use arbor_observer::Observer;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use support::eventually;
use tokio::process::{Child, Command};

const DEADLINE: Duration = Duration::from_secs(30);

/// chromedriver on a free loopback port; killed when dropped.
struct Driver {
    url: String,
    _process: Child,
}

impl Driver {
    async fn start() -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let program = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let process = Command::new(&program)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot run {program}: {error}"));
        let url = format!("http://127.0.0.1:{port}");
        // Ready when its status endpoint answers.
        let status = format!("{url}/status");
        eventually("chromedriver to listen", DEADLINE, || async {
            reqwest::get(&status)
                .await
                .ok()
                .filter(|r| r.status().is_success())
        })
        .await;
        Driver {
            url,
            _process: process,
        }
    }

    async fn browser(&self) -> Client {
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": binary,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1200,900"],
            }
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("an object literal")
        };
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a browser session")
    }
}

/// The text of the first element `css` finds, if any.
async fn text(browser: &Client, css: &str) -> Option<String> {
    browser
        .find(Locator::Css(css))
        .await
        .ok()?
        .text()
        .await
        .ok()
}

/// An attribute of the first element `css` finds, if any.
async fn attr(browser: &Client, css: &str, name: &str) -> Option<String> {
    browser
        .find(Locator::Css(css))
        .await
        .ok()?
        .attr(name)
        .await
        .ok()?
}

/// How many snapshots the page has drawn.
async fn updates(browser: &Client) -> u64 {
    text(browser, "#updates")
        .await
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

async fn events_counted(browser: &Client) -> Option<u64> {
    let css = r#"tr.metric[data-series="observer_test_events_total"] td.value"#;
    text(browser, css).await?.parse().ok()
}

const SINK: &str = r#"li.node[data-path="browser/sink"]"#;

async fn sink_actor(browser: &Client) -> Option<String> {
    attr(browser, SINK, "data-actor")
        .await
        .filter(|actor| !actor.is_empty())
}

/// Opens `url` and waits until the page's event stream is live.
async fn open_live(browser: &Client, url: &str) {
    browser.goto(url).await.expect("the page loads");
    eventually("the live connection", DEADLINE, || async {
        attr(browser, "#connection", "data-state")
            .await
            .filter(|state| state == "live")
    })
    .await;
}

/// Clicks the `action` button (`restart`, `stop`) on the node `node` selects.
async fn click(browser: &Client, node: &str, action: &str) {
    browser
        .find(Locator::Css(&format!("{node} > .line button.{action}")))
        .await
        .unwrap_or_else(|_| panic!("the {action} button of {node}"))
        .click()
        .await
        .expect("a click");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_draws_the_tree_live_and_restarts_a_child_only_with_the_token() {
    let tree = support::start("browser").await;
    let observer = Observer::builder(tree.root.clone())
        .bind(([127, 0, 0, 1], 0).into())
        .install_prometheus()
        .enable_actions()
        .interval(Duration::from_millis(200))
        .start()
        .await
        .expect("the observer starts");
    let token = observer.token().expect("actions enabled").to_owned();
    let driver = Driver::start().await;
    let browser = driver.browser().await;

    // The page, without the token in its address.
    open_live(&browser, &observer.url()).await;

    // The stages and the rest of the tree.
    for path in [
        "browser/names",
        "browser/numbers",
        "browser/sink",
        "browser/workers/clock",
    ] {
        let css = format!(r#"li.node[data-path="{path}"][data-state="Running"]"#);
        eventually(path, DEADLINE, || async {
            browser.find(Locator::Css(&css)).await.ok()
        })
        .await;
    }

    // The counts rise from one update to the next.
    let first = eventually("a count", DEADLINE, || events_counted(&browser)).await;
    eventually("the count to rise", DEADLINE, || async {
        events_counted(&browser).await.filter(|now| *now > first)
    })
    .await;
    let rate = r#"tr.metric[data-series="observer_test_events_total"] td.rate"#;
    eventually("a rate for the counter", DEADLINE, || async {
        let rate: f64 = text(&browser, rate).await?.parse().ok()?;
        (rate > 0.0).then_some(())
    })
    .await;

    // A click without the token is refused, and the sink is the same incarnation.
    let before = sink_actor(&browser).await.expect("the sink's actor id");
    click(&browser, SINK, "restart").await;
    eventually("the refusal", DEADLINE, || async {
        attr(&browser, "#status", "data-code")
            .await
            .filter(|code| code == "403")
    })
    .await;
    let drawn = updates(&browser).await;
    eventually("two more updates", DEADLINE, || async {
        (updates(&browser).await >= drawn + 2).then_some(())
    })
    .await;
    assert_eq!(sink_actor(&browser).await, Some(before.clone()));
    let running = tree.root.find_child("sink").await.unwrap().unwrap();
    assert_eq!(running.id().to_string(), before);

    // With the token typed into the page, the same click restarts it: a new incarnation.
    browser
        .find(Locator::Css("#token"))
        .await
        .expect("the token field")
        .send_keys(&token)
        .await
        .expect("typing");
    click(&browser, SINK, "restart").await;
    eventually("the restart to be accepted", DEADLINE, || async {
        attr(&browser, "#status", "data-code")
            .await
            .filter(|code| code == "202")
    })
    .await;
    let after = eventually("the new incarnation on the page", DEADLINE, || async {
        sink_actor(&browser).await.filter(|now| *now != before)
    })
    .await;
    assert!(!running.is_alive());
    let restarted = tree.root.find_child("sink").await.unwrap().unwrap();
    assert_eq!(restarted.id().to_string(), after);

    // Stop, with the token: the clock's supervisor terminates it, and it stays down.
    let clock = r#"li.node[data-path="browser/workers/clock"]"#;
    click(&browser, clock, "stop").await;
    eventually("the clock stopped on the page", DEADLINE, || async {
        attr(&browser, clock, "data-state")
            .await
            .filter(|state| state == "Undefined")
    })
    .await;
    assert_eq!(
        text(&browser, &format!("{clock} > .line .actor")).await,
        Some("not running".into())
    );

    // The address printed at start carries the token to the page.
    browser
        .goto(&observer.url_with_token())
        .await
        .expect("the page loads");
    let field = browser.find(Locator::Css("#token")).await.unwrap();
    assert_eq!(field.prop("value").await.unwrap(), Some(token));

    browser.close().await.expect("the session closes");
    observer.stop().await;
}

/// Returns once the page's clock has moved past the millisecond it reads now.
async fn next_millisecond(browser: &Client) {
    let now = || async {
        let now = browser.execute("return Date.now();", vec![]).await.ok()?;
        now.as_u64()
    };
    let start = eventually("the page's clock", DEADLINE, now).await;
    eventually("the clock to move", DEADLINE, || async {
        now().await.filter(|later| *later > start)
    })
    .await;
}

/// A tree node of the snapshot contract: per-actor `stats`, and for a stage its `stage`.
fn counted(id: &str, actor: &str, messages: u64, stage: Option<(&str, u64)>) -> serde_json::Value {
    let mut node = json!({
        "id": id, "kind": "Worker", "actor": actor, "state": "Running", "children": [],
        "stats": {"messages": messages, "restarts": 0, "mailbox": 0},
    });
    if let Some((kind, events_out)) = stage {
        node["stage"] = json!({
            "kind": kind, "subscriptions": 1, "demand": 10, "buffered": 0,
            "events_in": events_out, "events_out": events_out,
        });
    }
    node
}

fn contract_snapshot(producer_out: u64, worker_messages: u64) -> serde_json::Value {
    json!({
        "actions": false,
        "stages": [],
        "tree": {
            "id": "app", "kind": "Supervisor", "actor": "0.0", "state": "Running",
            "children": [
                {"id": "pipeline", "kind": "Supervisor", "actor": "0.1", "state": "Running",
                 "children": [
                     counted("producer", "0.2", 7, Some(("Producer", producer_out))),
                     counted("consumer", "0.3", 7, Some(("Consumer", 0))),
                 ]},
                counted("worker", "0.4", worker_messages, None),
                {"id": "plain", "kind": "Worker", "actor": "0.5", "state": "Running",
                 "children": []},
            ]
        }
    })
}

/// The page draws what the telemetry's snapshots carry (`stats`, `stage`) without knowing
/// them in advance: fed two snapshots by hand, it shows the sections and the throughput.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_draws_stats_and_stage_sections_and_their_throughput() {
    let tree = support::start("contract").await;
    let observer = Observer::builder(tree.root.clone())
        .bind(([127, 0, 0, 1], 0).into())
        .start()
        .await
        .expect("the observer starts");
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    open_live(&browser, &observer.url()).await;
    // From here on only the snapshots below are drawn.
    browser
        .execute("events.close();", vec![])
        .await
        .expect("the stream closes");
    for (out, messages) in [(100, 40), (300, 90)] {
        browser
            .execute(
                "render(arguments[0]);",
                vec![contract_snapshot(out, messages)],
            )
            .await
            .expect("a snapshot drawn");
        // A rate needs time between two updates: the next one comes a millisecond later.
        next_millisecond(&browser).await;
    }

    let producer = r#"li.node[data-path="app/pipeline/producer"] .stats"#;
    let stats = text(&browser, producer).await.expect("the producer's line");
    for shown in [
        "messages=7",
        "kind=Producer",
        "events_out=300",
        "buffered=0",
    ] {
        assert!(stats.contains(shown), "{shown} in {stats:?}");
    }
    assert!(
        browser
            .find(Locator::Css(
                r#"section.pipeline[data-path="app/pipeline"]"#
            ))
            .await
            .is_ok(),
        "the pipeline's throughput"
    );
    let row = |path: &str| format!(r#"tr.counted[data-path="{path}"]"#);
    assert_eq!(
        text(
            &browser,
            &format!("{} td.total", row("app/pipeline/producer"))
        )
        .await,
        Some("300".into())
    );
    let rate: f64 = text(
        &browser,
        &format!("{} td.rate", row("app/pipeline/producer")),
    )
    .await
    .and_then(|rate| rate.parse().ok())
    .expect("a rate");
    assert!(rate > 0.0, "events_out rose, so the rate is {rate}");
    // A worker with stats only is counted by its messages; one without is not counted.
    assert_eq!(
        text(&browser, &format!("{} td.total", row("app/worker"))).await,
        Some("90".into())
    );
    assert!(browser.find(Locator::Css(&row("app/plain"))).await.is_err());
    assert_eq!(
        attr(&browser, "#no-throughput", "hidden").await,
        Some("true".into())
    );
    browser.close().await.expect("the session closes");
    observer.stop().await;
}
