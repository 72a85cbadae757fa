//! Restart strategies, and the pure planner that says which children stop and restart.

/// Which children a supervisor restarts when one of them must be restarted.
///
/// ```text
///  children started in order:   A   B   C   D        (C fails)
///  OneForOne   stop:  —          restart: C
///  OneForAll   stop:  D B A      restart: A B C D
///  RestForOne  stop:  D          restart: C D
/// ```
///
/// Stops run in reverse start order, restarts in start order. A `Temporary` sibling that
/// is stopped this way is removed rather than restarted; every other child of the group
/// starts again, even one that was not running. If one fails to start, the group is
/// restarted again from it through the supervisor's mailbox, as OTP does.
///
/// # Examples
///
/// ```
/// use arbor_supervisor::{Strategy, SupervisorOptions};
///
/// let options = SupervisorOptions::new(Strategy::RestForOne);
/// assert_eq!(options.strategy, Strategy::RestForOne);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Strategy {
    /// Restart only the child that exited (the default).
    #[default]
    OneForOne,
    /// Stop every other child, then restart them all.
    OneForAll,
    /// Stop the children started after the one that exited, then restart it and them.
    RestForOne,
}

/// What to do when child `failed` (an index in start order) must be restarted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Siblings to stop, in the order to stop them (reverse start order).
    pub(crate) stop: Vec<usize>,
    /// Children to start again, in start order (the failed one included).
    pub(crate) restart: Vec<usize>,
}

impl Strategy {
    pub(crate) fn plan(self, failed: usize, len: usize) -> Plan {
        let affected = match self {
            Strategy::OneForOne => failed..failed + 1,
            Strategy::OneForAll => 0..len,
            Strategy::RestForOne => failed..len,
        };
        Plan {
            stop: affected.clone().rev().filter(|&i| i != failed).collect(),
            restart: affected.collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_for_one_touches_only_the_failed_child() {
        let plan = Strategy::OneForOne.plan(2, 4);
        assert_eq!(
            plan,
            Plan {
                stop: vec![],
                restart: vec![2]
            }
        );
    }

    #[test]
    fn one_for_all_stops_the_others_in_reverse_then_restarts_all_in_order() {
        let plan = Strategy::OneForAll.plan(2, 4);
        assert_eq!(
            plan,
            Plan {
                stop: vec![3, 1, 0],
                restart: vec![0, 1, 2, 3]
            }
        );
    }

    #[test]
    fn rest_for_one_stops_the_later_children_and_restarts_from_the_failed_one() {
        let plan = Strategy::RestForOne.plan(1, 4);
        assert_eq!(
            plan,
            Plan {
                stop: vec![3, 2],
                restart: vec![1, 2, 3]
            }
        );
    }
}
