//! A supervision tree snapshot as text, for people.

use std::fmt::Write;

use arbor_supervisor::{ChildKind, NodeState, TreeNode};

/// `tree` drawn one node per line, children indented under their supervisor:
///
/// ```text
/// jobber (supervisor, 0.4)
/// ├── job_registry (worker, 0.5)
/// └── job_runner (supervisor, 0.6)
///     └── r4Fl3I4 (supervisor, 0.9)
///         └── r4Fl3I4 (worker, not running)
/// ```
pub fn render_tree(tree: &TreeNode) -> String {
    let mut out = String::new();
    line(&mut out, tree);
    draw_children(&mut out, &tree.children, "");
    out
}

fn draw_children(out: &mut String, children: &[TreeNode], prefix: &str) {
    for (i, child) in children.iter().enumerate() {
        let last = i + 1 == children.len();
        out.push_str(prefix);
        out.push_str(if last { "└── " } else { "├── " });
        line(out, child);
        let deeper = format!("{prefix}{}", if last { "    " } else { "│   " });
        draw_children(out, &child.children, &deeper);
    }
}

fn line(out: &mut String, node: &TreeNode) {
    let kind = match node.kind {
        ChildKind::Supervisor => "supervisor",
        ChildKind::Worker => "worker",
    };
    let state = match (node.state, &node.actor) {
        (NodeState::Running, Some(actor)) => actor.as_str(),
        (NodeState::Running, None) => "running",
        (NodeState::Restarting, _) => "restarting",
        (NodeState::Undefined, _) => "not running",
    };
    // Writing to a String cannot fail.
    let _ = writeln!(out, "{} ({kind}, {state})", node.id);
}
