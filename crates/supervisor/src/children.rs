//! The ordered child table of a (static) supervisor: start order, lookups by id and by
//! actor, and what `which_children` / `count_children` report.

use arbor_actor::ractor::ActorId;

use crate::{Child, ChildCounts, ChildInfo, ChildSpec, ChildState};

#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) spec: ChildSpec,
    pub(crate) state: ChildState,
    /// How many times this child was restarted.
    pub(crate) restarts: u64,
}

/// Children in start order.
#[derive(Debug, Default)]
pub(crate) struct Children {
    records: Vec<Record>,
}

impl Children {
    pub(crate) fn push(&mut self, spec: ChildSpec, state: ChildState) {
        self.records.push(Record {
            spec,
            state,
            restarts: 0,
        });
    }

    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    pub(crate) fn get(&self, index: usize) -> Option<&Record> {
        self.records.get(index)
    }

    pub(crate) fn get_mut(&mut self, index: usize) -> Option<&mut Record> {
        self.records.get_mut(index)
    }

    pub(crate) fn remove(&mut self, index: usize) -> Record {
        self.records.remove(index)
    }

    pub(crate) fn position(&self, id: &str) -> Option<usize> {
        self.records.iter().position(|record| record.spec.id == id)
    }

    /// The index of the running child with this actor id: exits of actors that are no
    /// longer children (stopped on purpose, replaced by a restart) find nothing.
    pub(crate) fn position_of_actor(&self, actor: ActorId) -> Option<usize> {
        self.records.iter().position(|record| {
            record
                .state
                .child()
                .is_some_and(|child| child.id() == actor)
        })
    }

    /// Running children, last started first: the order to stop them in.
    pub(crate) fn running_in_reverse(&self) -> Vec<(usize, Child)> {
        self.records
            .iter()
            .enumerate()
            .rev()
            .filter_map(|(index, record)| record.state.child().map(|child| (index, child.clone())))
            .collect()
    }

    pub(crate) fn any_running_significant(&self) -> bool {
        self.records
            .iter()
            .any(|record| record.spec.significant && record.state.child().is_some())
    }

    pub(crate) fn infos(&self) -> Vec<ChildInfo> {
        self.records
            .iter()
            .map(|record| ChildInfo::of(&record.spec, &record.state, record.restarts))
            .collect()
    }

    pub(crate) fn counts(&self) -> ChildCounts {
        ChildCounts::tally(
            self.records
                .iter()
                .map(|record| (record.spec.kind, record.state.child().is_some())),
        )
    }
}
