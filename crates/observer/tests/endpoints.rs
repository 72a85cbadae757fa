//! The observer's HTTP side, without a browser: the JSON, the live stream, `/metrics`,
//! and the actions (refused without the token, done with it).

mod support;

use std::time::Duration;

use arbor_observer::{Observer, ObserverError};
use arbor_supervisor::{Child, Supervisor};
use reqwest::StatusCode;
use serde_json::Value;
use support::{actor, eventually, node};

const DEADLINE: Duration = Duration::from_secs(20);

async fn observe(root: &Supervisor, actions: bool) -> Observer {
    let builder = Observer::builder(root.clone()).bind(([127, 0, 0, 1], 0).into());
    let builder = if actions {
        builder.enable_actions()
    } else {
        builder
    };
    builder.start().await.expect("the observer starts")
}

async fn get_json(observer: &Observer, path: &str) -> Value {
    let response = reqwest::get(format!("{}{path}", observer.url()))
        .await
        .expect("the observer answers");
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.json().await.expect("JSON")
}

async fn post(observer: &Observer, actor: &str, action: &str, auth: Option<&str>) -> StatusCode {
    let request =
        reqwest::Client::new().post(format!("{}api/actors/{actor}/{action}", observer.url()));
    let request = match auth {
        Some(auth) => request.header("Authorization", auth),
        None => request,
    };
    request.send().await.expect("the observer answers").status()
}

/// The running `clock` under `workers`, straight from the supervisors.
async fn clock(root: &Supervisor) -> Child {
    let workers = root.find_child("workers").await.unwrap().unwrap();
    Supervisor::from_child(&workers)
        .unwrap()
        .find_child("clock")
        .await
        .unwrap()
        .expect("clock runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tree_and_the_page_are_served() {
    let tree = support::start("obs_tree").await;
    let observer = observe(&tree.root, false).await;

    let json = get_json(&observer, "api/tree").await;
    assert_eq!(json["id"], "obs_tree");
    assert_eq!(json["actor"], tree.root.id().to_string());
    let ids: Vec<&str> = json["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|child| child["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["names", "numbers", "sink", "workers"]);
    assert_eq!(
        actor(&json, &["workers", "clock"]),
        Some(clock(&tree.root).await.id().to_string())
    );
    assert_eq!(
        node(&json, &["workers", "clock"]).unwrap()["kind"],
        "Worker"
    );

    assert!(get_json(&observer, "api/stages").await.is_array());
    let snapshot = get_json(&observer, "api/snapshot").await;
    assert_eq!(snapshot["actions"], false);
    assert_eq!(snapshot["tree"]["id"], "obs_tree");
    assert!(snapshot.get("metrics").is_none(), "no recorder, no metrics");

    let page = reqwest::get(observer.url()).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("<title>arbor observer</title>"));
    assert!(html.contains("new EventSource(\"/api/events\")"));

    let metrics = reqwest::get(format!("{}metrics", observer.url()))
        .await
        .unwrap();
    assert_eq!(metrics.status(), StatusCode::NOT_FOUND);
    observer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_stream_sends_snapshots_of_the_tree() {
    let tree = support::start("obs_stream").await;
    let observer = Observer::builder(tree.root.clone())
        .bind(([127, 0, 0, 1], 0).into())
        .interval(Duration::from_millis(100))
        .start()
        .await
        .unwrap();
    // Two pages open at once: each gets a snapshot at once, then the ones published for
    // both.
    let url = format!("{}api/events", observer.url());
    let pages = [
        reqwest::get(&url).await.unwrap(),
        reqwest::get(&url).await.unwrap(),
    ];
    for mut events in pages {
        assert_eq!(
            events.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        let mut text = String::new();
        while text.matches("event: snapshot").count() < 3 {
            let chunk = events.chunk().await.unwrap().expect("the stream goes on");
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
        // The first two are whole: the third event's name came after them.
        for data in text
            .lines()
            .filter_map(|line| line.strip_prefix("data: "))
            .take(2)
        {
            let snapshot: Value = serde_json::from_str(data).unwrap();
            assert_eq!(snapshot["tree"]["id"], "obs_stream");
        }
    }
    // Stopping the observer ends the stream rather than waiting for the client.
    tokio::time::timeout(DEADLINE, observer.stop())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_observer_refuses_every_action() {
    let tree = support::start("obs_read_only").await;
    let observer = observe(&tree.root, false).await;
    assert_eq!(observer.token(), None);
    let before = clock(&tree.root).await;
    for auth in [None, Some("Bearer anything")] {
        let status = post(&observer, &before.id().to_string(), "restart", auth).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    assert_eq!(get_json(&observer, "api/snapshot").await["actions"], false);
    let after = clock(&tree.root).await;
    assert_eq!(after, before);
    assert!(after.is_alive());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_without_the_token_is_refused_and_changes_nothing() {
    let tree = support::start("obs_refused").await;
    let observer = observe(&tree.root, true).await;
    let token = observer.token().unwrap().to_owned();
    let before = clock(&tree.root).await;
    let clock_actor = before.id().to_string();
    let tree_before = get_json(&observer, "api/tree").await;

    let wrong = format!("Bearer {}", "0".repeat(token.len()));
    let bare = token.clone(); // the token without the `Bearer ` scheme
    for auth in [
        None,
        Some(wrong.as_str()),
        Some(bare.as_str()),
        Some("Bearer "),
    ] {
        for action in ["restart", "stop"] {
            assert_eq!(
                post(&observer, &clock_actor, action, auth).await,
                StatusCode::FORBIDDEN,
                "{action} with {auth:?}"
            );
        }
    }

    // A restart that is let through, of another child, and waited for: had a refused
    // request reached the clock, it would have been dealt with by now.
    let sink = actor(&tree_before, &["sink"]).unwrap();
    let bearer = format!("Bearer {token}");
    assert_eq!(
        post(&observer, &sink, "restart", Some(&bearer)).await,
        StatusCode::ACCEPTED
    );
    eventually("a new sink", DEADLINE, || async {
        let tree = get_json(&observer, "api/tree").await;
        actor(&tree, &["sink"]).filter(|now| *now != sink)
    })
    .await;

    let after = clock(&tree.root).await;
    assert_eq!(after, before);
    assert!(after.is_alive());
    let tree_after = get_json(&observer, "api/tree").await;
    assert_eq!(
        node(&tree_after, &["workers"]).map(incarnations),
        node(&tree_before, &["workers"]).map(incarnations)
    );
}

/// A subtree without its message counts, which every snapshot raises (a snapshot asks
/// each supervisor for its children): who runs, and how often it restarted.
fn incarnations(node: &Value) -> Value {
    let mut node = node.clone();
    if let Some(stats) = node.get_mut("stats").and_then(Value::as_object_mut) {
        stats.remove("messages");
    }
    if let Some(children) = node.get_mut("children").and_then(Value::as_array_mut) {
        for child in children.iter_mut() {
            *child = incarnations(child);
        }
    }
    node
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_with_the_token_gives_a_new_incarnation() {
    let tree = support::start("obs_restart").await;
    let observer = observe(&tree.root, true).await;
    let bearer = format!("Bearer {}", observer.token().unwrap());
    let old = clock(&tree.root).await;
    let old_actor = old.id().to_string();

    let status = post(&observer, &old_actor, "restart", Some(&bearer)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let new_actor = eventually("a new clock", DEADLINE, || async {
        let json = get_json(&observer, "api/tree").await;
        actor(&json, &["workers", "clock"]).filter(|now| *now != old_actor)
    })
    .await;
    assert!(!old.is_alive());
    assert_eq!(clock(&tree.root).await.id().to_string(), new_actor);

    // The old incarnation is gone: acting on it finds nothing.
    let again = post(&observer, &old_actor, "restart", Some(&bearer)).await;
    assert_eq!(again, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_with_the_token_terminates_the_child_through_its_supervisor() {
    let tree = support::start("obs_stop").await;
    let observer = observe(&tree.root, true).await;
    let bearer = format!("Bearer {}", observer.token().unwrap());
    let clock_actor = clock(&tree.root).await.id().to_string();

    let status = post(&observer, &clock_actor, "stop", Some(&bearer)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    // terminate_child has returned: the supervisor says so at once, and keeps the spec.
    let json = get_json(&observer, "api/tree").await;
    let clock = node(&json, &["workers", "clock"]).unwrap();
    assert_eq!(clock["state"], "Undefined");
    assert_eq!(clock["actor"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_actors_unknown_actions_and_the_root_are_not_found() {
    let tree = support::start("obs_unknown").await;
    let observer = observe(&tree.root, true).await;
    let bearer = format!("Bearer {}", observer.token().unwrap());
    let root_actor = tree.root.id().to_string();
    let clock_actor = clock(&tree.root).await.id().to_string();
    for (actor, action) in [
        ("0.999999", "restart"),
        (root_actor.as_str(), "restart"),
        (clock_actor.as_str(), "explode"),
    ] {
        assert_eq!(
            post(&observer, actor, action, Some(&bearer)).await,
            StatusCode::NOT_FOUND,
            "{action} {actor}"
        );
    }
    assert!(tree.root.is_alive());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_loopback_address_must_be_asked_for() {
    let tree = support::start("obs_bind").await;
    let everywhere = ([0, 0, 0, 0], 0).into();
    let refused = Observer::builder(tree.root.clone())
        .bind(everywhere)
        .start()
        .await;
    assert!(matches!(refused, Err(ObserverError::NotLoopback(addr)) if addr == everywhere));
    let allowed = Observer::builder(tree.root.clone())
        .bind(everywhere)
        .allow_non_loopback()
        .start()
        .await
        .unwrap();
    assert!(allowed.local_addr().ip().is_unspecified());
    allowed.stop().await;
}

/// The one test of this binary that installs the process-wide Prometheus recorder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_in_the_prometheus_format() {
    let tree = support::start("obs_metrics").await;
    let observer = Observer::builder(tree.root.clone())
        .bind(([127, 0, 0, 1], 0).into())
        .install_prometheus()
        .start()
        .await
        .unwrap();
    let url = format!("{}metrics", observer.url());
    let count = eventually("counted events", DEADLINE, || async {
        let text = reqwest::get(&url).await.unwrap().text().await.unwrap();
        text.lines()
            .find_map(|line| line.strip_prefix("observer_test_events_total "))
            .and_then(|value| value.parse::<u64>().ok())
            .filter(|count| *count > 0)
    })
    .await;
    assert!(count > 0);
    let response = reqwest::get(&url).await.unwrap();
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let snapshot = get_json(&observer, "api/snapshot").await;
    assert!(snapshot["metrics"]
        .as_str()
        .unwrap()
        .contains("observer_test_events_total"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_for_another_host_name_is_refused_on_loopback() {
    let tree = support::start("obs_rebinding").await;
    let observer = observe(&tree.root, false).await;
    let client = reqwest::Client::new();
    for (host, status) in [
        ("attacker.example", StatusCode::FORBIDDEN),
        ("localhost", StatusCode::OK),
    ] {
        let response = client
            .get(format!("{}api/tree", observer.url()))
            .header("Host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "Host: {host}");
    }
}
