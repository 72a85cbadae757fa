//! After a supervision tree is stopped, none of its actors is alive: counted.

mod support;

use arbor_actor::Exit;
use arbor_supervisor::{
    ChildSpec, DynamicSupervisor, DynamicSupervisorOptions, Supervisor, SupervisorOptions, TreeNode,
};
use support::Lab;

fn count(node: &TreeNode) -> usize {
    1 + node.children.iter().map(count).sum::<usize>()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_a_tree_of_a_thousand_children_leaves_none_alive() {
    let mut lab = Lab::new();
    let base = lab.spec("w");
    let workers: Vec<ChildSpec> = (0..500)
        .map(|i| {
            let mut spec = base.clone();
            spec.id = format!("w{i}");
            spec
        })
        .collect();
    let jobs = DynamicSupervisor::child_spec("jobs", DynamicSupervisorOptions::default());
    let mut specs = workers;
    specs.push(jobs);
    let root = Supervisor::start(specs, SupervisorOptions::default())
        .await
        .unwrap();
    let jobs = DynamicSupervisor::from_child(
        root.which_children().await.unwrap()[500]
            .state
            .child()
            .unwrap(),
    )
    .unwrap();
    for _ in 0..499 {
        jobs.start_child(lab.spec("job")).await.unwrap();
    }

    // Every actor of the tree: the root, 500 workers, the DynamicSupervisor, its 499 jobs.
    let tree = root.tree().await.unwrap();
    assert_eq!(count(&tree), 1001);
    let mut cells = vec![root.cell()];
    for info in root.which_children().await.unwrap() {
        cells.push(info.state.child().unwrap().cell());
    }
    for info in jobs.which_children().await.unwrap() {
        cells.push(info.state.child().unwrap().cell());
    }
    assert_eq!(cells.len(), 1001);

    root.stop(Exit::shutdown()).await;
    let alive = cells
        .iter()
        .filter(|cell| cell.get_status() != arbor_actor::ractor::ActorStatus::Stopped)
        .count();
    assert_eq!(alive, 0);
}
