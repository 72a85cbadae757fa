//! The HTTP side: the page, the JSON endpoints, the live updates and the actions.

use std::sync::Arc;
use std::time::Duration;

use arbor_supervisor::Supervisor;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::json;
use tokio::sync::watch;

use crate::actions::{self, Action, ActionError};
use crate::live::{self, Published};
use crate::snapshot::{self, Snapshot};
use crate::token::Token;

/// The page: one file, its script and style inline, nothing fetched from elsewhere.
const PAGE: &str = include_str!("../assets/observer.html");

/// The Prometheus text format's content type.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What every handler reads.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) root: Supervisor,
    /// `Some` when actions are enabled.
    pub(crate) token: Option<Token>,
    pub(crate) prometheus: Option<PrometheusHandle>,
    /// How often the live view is updated.
    pub(crate) interval: Duration,
    /// Whether requests for any `Host` are served (the observer was allowed off loopback,
    /// where it may be reached by a name of the operator's choosing).
    pub(crate) any_host: bool,
    /// The live view's latest snapshot, and who listens for the next.
    pub(crate) live: watch::Sender<Published>,
    /// Turns `true` when the observer stops: the live streams end, so the server's
    /// graceful shutdown is not held open by them.
    pub(crate) stopping: watch::Receiver<bool>,
}

impl Shared {
    async fn snapshot(&self) -> Snapshot {
        Snapshot::take(&self.root, self.prometheus.as_ref(), self.token.is_some()).await
    }

    /// A snapshot as JSON, for the live view.
    pub(crate) async fn snapshot_json(&self) -> Arc<str> {
        let snapshot = self.snapshot().await;
        // A snapshot is strings, numbers and lists: it always serialises.
        serde_json::to_string(&snapshot)
            .unwrap_or_else(|error| json!({ "error": error.to_string() }).to_string())
            .into()
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/api/tree", get(tree))
        .route("/api/stages", get(stages))
        .route("/api/snapshot", get(snapshot))
        .route("/api/events", get(live::events))
        .route("/metrics", get(metrics))
        .route("/api/actors/{actor}/{action}", post(action))
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            loopback_host,
        ))
        .with_state(shared)
}

/// On loopback, only requests addressed to an IP address or `localhost` are served: a web
/// page elsewhere that points its own name at 127.0.0.1 (DNS rebinding) would otherwise
/// read the tree from the browser of whoever opens it.
async fn loopback_host(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .unwrap_or_default();
    if shared.any_host || is_local_host(host) {
        next.run(request).await
    } else {
        refusal(
            StatusCode::FORBIDDEN,
            format!("not served for host {host:?}"),
        )
    }
}

/// `127.0.0.1:9000`, `[::1]:9000`, `localhost:9000`, with or without the port.
fn is_local_host(host: &str) -> bool {
    use std::net::{IpAddr, SocketAddr};
    let without_port = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    host.parse::<SocketAddr>().is_ok()
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok()
        || without_port.parse::<IpAddr>().is_ok()
        || without_port.eq_ignore_ascii_case("localhost")
}

async fn page() -> Html<&'static str> {
    Html(PAGE)
}

async fn tree(State(shared): State<Arc<Shared>>) -> Response {
    match snapshot::tree(&shared.root).await {
        Ok(tree) => Json(tree).into_response(),
        Err(error) => refusal(StatusCode::SERVICE_UNAVAILABLE, error),
    }
}

async fn stages(State(shared): State<Arc<Shared>>) -> Response {
    match snapshot::tree(&shared.root).await {
        Ok(tree) => Json(snapshot::stages(&tree)).into_response(),
        Err(error) => refusal(StatusCode::SERVICE_UNAVAILABLE, error),
    }
}

async fn snapshot(State(shared): State<Arc<Shared>>) -> Json<Snapshot> {
    Json(shared.snapshot().await)
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    match &shared.prometheus {
        Some(prometheus) => (
            [(header::CONTENT_TYPE, PROMETHEUS_TEXT)],
            snapshot::render(prometheus),
        )
            .into_response(),
        None => refusal(
            StatusCode::NOT_FOUND,
            "no Prometheus recorder: start the observer with install_prometheus()",
        ),
    }
}

/// `POST /api/actors/{actor}/restart` or `…/stop`, with `Authorization: Bearer <token>`.
/// The token is checked before anything is looked up: a refused request changes nothing
/// and learns nothing about the tree.
async fn action(
    State(shared): State<Arc<Shared>>,
    Path((actor, action)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(token) = &shared.token else {
        return refusal(
            StatusCode::FORBIDDEN,
            "actions are disabled (read-only observer)",
        );
    };
    let offered = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    if !offered.is_some_and(|offered| token.accepts(offered)) {
        tracing::warn!(%actor, %action, "observer action refused: missing or wrong token");
        return refusal(StatusCode::FORBIDDEN, "missing or wrong token");
    }
    let action = match action.as_str() {
        "restart" => Action::Restart,
        "stop" => Action::Stop,
        other => return refusal(StatusCode::NOT_FOUND, format!("no action {other:?}")),
    };
    match actions::act(&shared.root, &actor, action).await {
        Ok(()) => (StatusCode::ACCEPTED, Json(json!({ "actor": actor }))).into_response(),
        Err(error @ ActionError::NotFound(_)) => refusal(StatusCode::NOT_FOUND, error.to_string()),
        Err(error @ ActionError::Supervisor(_)) => refusal(StatusCode::CONFLICT, error.to_string()),
    }
}

fn refusal(status: StatusCode, why: impl Into<String>) -> Response {
    (status, Json(json!({ "error": why.into() }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::is_local_host;

    #[test]
    fn ip_addresses_and_localhost_are_local_hosts_and_names_are_not() {
        for host in [
            "127.0.0.1:9000",
            "127.0.0.1",
            "[::1]:9000",
            "::1",
            "localhost:80",
            "LOCALHOST",
        ] {
            assert!(is_local_host(host), "{host}");
        }
        for host in [
            "evil.example:9000",
            "evil.example",
            "",
            "localhost.evil.example:9000",
        ] {
            assert!(!is_local_host(host), "{host}");
        }
    }
}
