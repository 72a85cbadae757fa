//! Random operation sequences checked against a plain model, and concurrent stress.

mod support;

use arbor_actor::{Pid, Server};
use arbor_registry::{Keys, RegisterError, Registry, RegistryOptions};
use proptest::prelude::*;
use support::{worker, Worker};

const ACTORS: usize = 3;
const KEYS: u8 = 4;

#[derive(Debug, Clone)]
enum Op {
    Register(usize, u8, u8),
    Unregister(usize, u8),
    UnregisterMatch(usize, u8, u8),
    Update(usize, u8, u8),
    Kill(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let actor = 0..ACTORS;
    let key = 0..KEYS;
    prop_oneof![
        4 => (actor.clone(), key.clone(), any::<u8>()).prop_map(|(a, k, v)| Op::Register(a, k, v)),
        2 => (actor.clone(), key.clone()).prop_map(|(a, k)| Op::Unregister(a, k)),
        1 => (actor.clone(), key.clone(), 0..4_u8).prop_map(|(a, k, v)| Op::UnregisterMatch(a, k, v)),
        1 => (actor.clone(), key, any::<u8>()).prop_map(|(a, k, v)| Op::Update(a, k, v)),
        1 => actor.prop_map(Op::Kill),
    ]
}

/// The registry as a list of live entries.
#[derive(Default)]
struct Model {
    entries: Vec<(u8, usize, u8)>,
    dead: [bool; ACTORS],
}

impl Model {
    fn holder(&self, key: u8) -> Option<usize> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, a, _)| *a)
    }
}

fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items
}

async fn run(keys: Keys, ops: Vec<Op>) {
    let registry: Registry<u8, u8> = Registry::new(
        RegistryOptions::new(keys).partitions(std::num::NonZeroUsize::new(2).unwrap()),
    );
    let mut servers: Vec<Server<Worker>> = Vec::new();
    for _ in 0..ACTORS {
        servers.push(worker().await);
    }
    let pids: Vec<Pid> = servers.iter().map(Server::pid).collect();
    let index = |pid: &Pid| pids.iter().position(|p| p == pid).unwrap();
    let mut model = Model::default();

    for op in ops {
        match op {
            Op::Register(a, k, v) => {
                let result = registry.register(k, &servers[a], v);
                let expected = if model.dead[a] {
                    Err(RegisterError::NotAlive(pids[a].clone()))
                } else if let (Keys::Unique, Some(holder)) = (keys, model.holder(k)) {
                    Err(RegisterError::AlreadyRegistered {
                        key: format!("{k:?}"),
                        holder: pids[holder].clone(),
                    })
                } else {
                    model.entries.push((k, a, v));
                    Ok(())
                };
                assert_eq!(result, expected);
            }
            Op::Unregister(a, k) => {
                let before = model.entries.len();
                model.entries.retain(|(mk, ma, _)| !(*mk == k && *ma == a));
                assert_eq!(
                    registry.unregister(&k, &pids[a]),
                    before - model.entries.len()
                );
            }
            Op::UnregisterMatch(a, k, v) => {
                let before = model.entries.len();
                model
                    .entries
                    .retain(|e| !(e.0 == k && e.1 == a && e.2 % 4 == v));
                let removed = registry.unregister_match(&k, &pids[a], |value| value % 4 == v);
                assert_eq!(removed, before - model.entries.len());
            }
            Op::Update(a, k, v) => {
                let result = registry.update_value(&k, &pids[a], |_| v);
                let held = model.entries.iter_mut().find(|e| e.0 == k && e.1 == a);
                match (keys, held) {
                    (Keys::Unique, Some(entry)) => {
                        assert_eq!(result, Ok((v, entry.2)));
                        entry.2 = v;
                    }
                    _ => assert!(result.is_err()),
                }
            }
            Op::Kill(a) => {
                servers[a].kill();
                servers[a].wait().await;
                model.dead[a] = true;
                model.entries.retain(|(_, ma, _)| *ma != a);
            }
        }
        check(&registry, &model, &pids, index);
    }
}

fn check(registry: &Registry<u8, u8>, model: &Model, pids: &[Pid], index: impl Fn(&Pid) -> usize) {
    for key in 0..KEYS {
        let found = registry.lookup(&key);
        let found = sorted(found.iter().map(|(pid, v)| (index(pid), *v)).collect());
        let expected = sorted(
            model
                .entries
                .iter()
                .filter(|e| e.0 == key)
                .map(|e| (e.1, e.2))
                .collect(),
        );
        assert_eq!(found, expected, "key {key}");
    }
    for (a, pid) in pids.iter().enumerate() {
        let expected = sorted(
            model
                .entries
                .iter()
                .filter(|e| e.1 == a)
                .map(|e| e.0)
                .collect(),
        );
        assert_eq!(sorted(registry.keys(pid)), expected, "keys of actor {a}");
    }
    assert_eq!(registry.count(), model.entries.len());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_unique_registry_behaves_as_the_model(ops in prop::collection::vec(op(), 1..60)) {
        runtime().block_on(run(Keys::Unique, ops));
    }

    #[test]
    fn a_duplicate_registry_behaves_as_the_model(ops in prop::collection::vec(op(), 1..60)) {
        runtime().block_on(run(Keys::Duplicate, ops));
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_register_unregister_lookup_keep_unique_keys_unique() {
    let registry: Registry<u32, usize> = Registry::unique("stress");
    let mut servers = Vec::new();
    for _ in 0..8 {
        servers.push(worker().await);
    }
    let mut tasks = Vec::new();
    for (me, server) in servers.iter().enumerate() {
        let (registry, pid) = (registry.clone(), server.pid());
        tasks.push(tokio::spawn(async move {
            let mut held = 0;
            for round in 0..2_000_u32 {
                let key = round % 16; // contended by every task
                match registry.register(key, pid.clone(), me) {
                    Ok(()) => {
                        // While held, every lookup sees this holder and only it.
                        assert_eq!(registry.lookup(&key), vec![(pid.clone(), me)]);
                        assert_eq!(registry.unregister(&key, &pid), 1);
                        held += 1;
                    }
                    Err(RegisterError::AlreadyRegistered { holder, .. }) => {
                        assert_ne!(holder, pid);
                    }
                    Err(other) => panic!("unexpected {other}"),
                }
                let own = 1_000 + me as u32;
                registry.register(own, pid.clone(), me).unwrap();
                assert!(registry.lookup(&own).len() == 1);
                registry.unregister(&own, &pid);
                tokio::task::yield_now().await;
            }
            held
        }));
    }
    let mut held = 0;
    for task in tasks {
        held += task.await.unwrap();
    }
    assert!(held > 0);
    assert_eq!(registry.count(), 0);
    for server in &servers {
        assert!(registry.keys(server).is_empty());
    }
}
