//! `--observe`: the scraper serves its tree while it runs, stays up once the pages are
//! done, and stops in order on SIGTERM with exit code 0.
#![cfg(unix)]

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

/// Reads lines from `lines` until one contains `wanted`; returns it.
async fn line_with(lines: &mut mpsc::UnboundedReceiver<String>, wanted: &str) -> String {
    while let Some(line) = lines.recv().await {
        if line.contains(wanted) {
            return line;
        }
    }
    panic!("stderr ended before a line with {wanted:?}");
}

#[tokio::test]
async fn the_observed_scraper_serves_its_tree_and_stops_on_sigterm() {
    let mut scraper = Command::new(env!("CARGO_BIN_EXE_scraper"))
        .args(["--observe", "127.0.0.1:0", "--observe-actions"])
        .args(["--pages", "5", "--time-scale", "0.001", "--seed", "7"])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the scraper starts");
    let mut stderr = BufReader::new(scraper.stderr.take().unwrap()).lines();
    let (forward, mut lines) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(Some(line)) = stderr.next_line().await {
            let _ = forward.send(line);
        }
    });

    let printed = line_with(&mut lines, "observer at ").await;
    let url = printed
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .expect("the observer's address");
    let (base, fragment) = url.split_once("#token=").expect("the token in the address");
    line_with(&mut lines, "every page is done").await;

    let tree = reqwest::get(format!("{base}api/tree"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for stage in [
        "PageProducer",
        "online_page_producer_consumer_1",
        "PageConsumerSupervisor",
    ] {
        assert!(tree.contains(stage), "{stage} in {tree}");
    }
    let metrics = reqwest::get(format!("{base}metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("scraper_pages_requested_total 5"),
        "{metrics}"
    );
    let refused = reqwest::Client::new()
        .post(format!("{base}api/actors/0.1/stop"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::FORBIDDEN);
    assert_eq!(fragment.len(), 32);

    let pid = scraper.id().unwrap().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().await;
    assert!(killed.unwrap().success());
    let status = scraper.wait().await.unwrap();
    let mut stdout = String::new();
    scraper
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("pages requested  5"), "{stdout}");
    assert!(
        stdout.contains("stopped in order after terminate"),
        "{stdout}"
    );
}
