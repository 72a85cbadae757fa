//! What the page and the JSON endpoints show: the tree as the supervisor reports it, the
//! stages found in it, and the Prometheus text when a recorder is attached.
//!
//! The tree goes out as `serde_json::Value`, not as `TreeNode`'s fields picked one by
//! one: whatever a node carries (per-actor `stats`, a stage's `stage` section) reaches the
//! page as it is, and the page draws what it finds.

use arbor_supervisor::Supervisor;
use metrics_exporter_prometheus::PrometheusHandle;
use serde::Serialize;
use serde_json::Value;

/// One update of the page.
#[derive(Debug, Serialize)]
pub(crate) struct Snapshot {
    /// The tree, or `null` when the root supervisor did not answer (it stopped).
    pub(crate) tree: Option<Value>,
    /// Why there is no tree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    /// Every node of the tree that is a stage.
    pub(crate) stages: Vec<StageEntry>,
    /// Whether stop and restart are enabled (the page shows its buttons only then).
    pub(crate) actions: bool,
    /// The Prometheus exposition text, when the observer has a recorder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) metrics: Option<String>,
}

/// A stage as `/api/stages` lists it.
#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct StageEntry {
    /// The ids from the root down to the stage, `/`-separated.
    pub(crate) path: String,
    /// The stage's actor id.
    pub(crate) actor: Value,
    /// The stage's section of the snapshot (kind, subscriptions, demand, buffer, counts).
    pub(crate) stage: Value,
    /// Its per-actor counts, when the snapshot has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stats: Option<Value>,
}

impl Snapshot {
    /// Takes one now.
    pub(crate) async fn take(
        root: &Supervisor,
        prometheus: Option<&PrometheusHandle>,
        actions: bool,
    ) -> Snapshot {
        let (tree, error) = match tree(root).await {
            Ok(tree) => (Some(tree), None),
            Err(error) => (None, Some(error)),
        };
        Snapshot {
            stages: tree.as_ref().map(stages).unwrap_or_default(),
            tree,
            error,
            actions,
            metrics: prometheus.map(render),
        }
    }
}

/// The Prometheus text. Histograms and summaries are drained into their buckets
/// first (the exporter's periodic upkeep, done here since nothing else runs it).
pub(crate) fn render(prometheus: &PrometheusHandle) -> String {
    prometheus.run_upkeep();
    prometheus.render()
}

/// The tree below `root` as JSON.
pub(crate) async fn tree(root: &Supervisor) -> Result<Value, String> {
    let tree = root.tree().await.map_err(|error| error.to_string())?;
    serde_json::to_value(tree).map_err(|error| error.to_string())
}

/// The stages in `tree`, depth first.
pub(crate) fn stages(tree: &Value) -> Vec<StageEntry> {
    let mut found = Vec::new();
    collect_stages(tree, "", &mut found);
    found
}

fn collect_stages(node: &Value, parent: &str, found: &mut Vec<StageEntry>) {
    let id = node.get("id").and_then(Value::as_str).unwrap_or("?");
    let path = if parent.is_empty() {
        id.to_owned()
    } else {
        format!("{parent}/{id}")
    };
    if let Some(stage) = node.get("stage").filter(|stage| !stage.is_null()) {
        found.push(StageEntry {
            path: path.clone(),
            actor: node.get("actor").cloned().unwrap_or(Value::Null),
            stage: stage.clone(),
            stats: node.get("stats").cloned(),
        });
    }
    for child in node
        .get("children")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect_stages(child, &path, found);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{stages, StageEntry};

    #[test]
    fn finds_the_stages_at_any_depth_and_nothing_else() {
        let tree = json!({
            "id": "app", "actor": "0.1", "children": [
                {"id": "worker", "actor": "0.2", "children": []},
                {"id": "pipeline", "actor": "0.3", "children": [
                    {"id": "producer", "actor": "0.4", "children": [],
                     "stage": {"kind": "Producer"}, "stats": {"messages": 7}},
                    {"id": "consumer", "actor": "0.5", "children": [],
                     "stage": {"kind": "Consumer"}}
                ]}
            ]
        });
        assert_eq!(
            stages(&tree),
            vec![
                StageEntry {
                    path: "app/pipeline/producer".into(),
                    actor: json!("0.4"),
                    stage: json!({"kind": "Producer"}),
                    stats: Some(json!({"messages": 7})),
                },
                StageEntry {
                    path: "app/pipeline/consumer".into(),
                    actor: json!("0.5"),
                    stage: json!({"kind": "Consumer"}),
                    stats: None,
                },
            ]
        );
    }

    #[test]
    fn a_tree_without_stage_sections_has_no_stages() {
        let tree = json!({"id": "app", "children": [{"id": "a", "children": []}]});
        assert!(stages(&tree).is_empty());
    }
}
