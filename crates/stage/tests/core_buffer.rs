//! The producer's buffer without a runtime: gen_stage's `buffer_size` and `buffer_keep`,
//! exact discard counts, and info messages kept in order between events.

mod support;

use std::collections::VecDeque;

use arbor_stage::plumbing::{Buffer, InfoToken, Pushed};
use arbor_stage::{BufferKeep, BufferSize};
use proptest::prelude::*;

fn bounded(limit: usize, keep: BufferKeep) -> Buffer<u32> {
    Buffer::new(BufferSize::Bounded(limit), keep)
}

/// Pushes and checks no info came back.
fn push(buffer: &mut Buffer<u32>, events: impl IntoIterator<Item = u32>) -> usize {
    let pushed = buffer.push(events.into_iter().collect());
    assert!(pushed.infos.is_empty());
    pushed.discarded
}

fn take_all(buffer: &mut Buffer<u32>) -> Vec<u32> {
    let taken = buffer.take(usize::MAX);
    assert!(taken.infos.is_empty());
    taken.events
}

// --- sizes and defaults --------------------------------------------------------------

#[test]
fn buffer_defaults_are_gen_stages() {
    assert_eq!(BufferSize::PRODUCER_DEFAULT, BufferSize::Bounded(10_000));
    assert_eq!(BufferSize::PRODUCER_CONSUMER_DEFAULT, BufferSize::Unbounded);
    assert_eq!(BufferKeep::default(), BufferKeep::Last);
    let buffer = Buffer::<u32>::default();
    assert_eq!(buffer.size(), BufferSize::Bounded(10_000));
    assert_eq!(buffer.keep(), BufferKeep::Last);
    assert!(buffer.is_empty());
}

#[test]
fn buffer_unbounded_never_discards() {
    let mut buffer = Buffer::new(BufferSize::Unbounded, BufferKeep::First);
    assert_eq!(push(&mut buffer, 0..50_000), 0);
    assert_eq!(buffer.len(), 50_000);
}

#[test]
fn buffer_of_size_zero_discards_every_event_and_counts_them() {
    for keep in [BufferKeep::First, BufferKeep::Last] {
        let mut buffer = bounded(0, keep);
        assert_eq!(push(&mut buffer, [1, 2, 3]), 3);
        assert!(buffer.is_empty());
        assert_eq!(buffer.discarded_total(), 3);
        assert_eq!(buffer.push_info(InfoToken::new(1)), Some(InfoToken::new(1)));
    }
}

// --- buffer_keep ---------------------------------------------------------------------

#[test]
fn buffer_keep_first_discards_incoming_events_that_do_not_fit() {
    let mut buffer = bounded(3, BufferKeep::First);
    assert_eq!(push(&mut buffer, [1, 2, 3]), 0);
    assert_eq!(push(&mut buffer, [4, 5, 6]), 3);
    assert_eq!(take_all(&mut buffer), vec![1, 2, 3]);
}

#[test]
fn buffer_keep_first_keeps_what_fits_of_a_batch() {
    let mut buffer = bounded(5, BufferKeep::First);
    assert_eq!(push(&mut buffer, 1..=4), 0);
    assert_eq!(push(&mut buffer, 5..=7), 2);
    assert_eq!(take_all(&mut buffer), vec![1, 2, 3, 4, 5]);
}

#[test]
fn buffer_keep_last_discards_the_oldest_events() {
    let mut buffer = bounded(3, BufferKeep::Last);
    assert_eq!(push(&mut buffer, [1, 2, 3]), 0);
    assert_eq!(push(&mut buffer, [4, 5, 6]), 3);
    assert_eq!(take_all(&mut buffer), vec![4, 5, 6]);
}

#[test]
fn buffer_keep_last_makes_just_enough_room() {
    let mut buffer = bounded(5, BufferKeep::Last);
    assert_eq!(push(&mut buffer, 1..=4), 0);
    assert_eq!(push(&mut buffer, 5..=7), 2);
    assert_eq!(take_all(&mut buffer), vec![3, 4, 5, 6, 7]);
}

#[test]
fn buffer_keep_last_keeps_the_tail_of_a_batch_larger_than_the_buffer() {
    let mut buffer = bounded(3, BufferKeep::Last);
    assert_eq!(push(&mut buffer, [1]), 0);
    assert_eq!(push(&mut buffer, 2..=6), 3);
    assert_eq!(take_all(&mut buffer), vec![4, 5, 6]);
}

#[test]
fn buffer_counts_every_discard() {
    let mut buffer = bounded(2, BufferKeep::First);
    assert_eq!(push(&mut buffer, [1, 2, 3]), 1);
    assert_eq!(push(&mut buffer, [4, 5]), 2);
    assert_eq!(push(&mut buffer, []), 0);
    assert_eq!(buffer.discarded_total(), 3);
}

// --- take ----------------------------------------------------------------------------

#[test]
fn buffer_take_returns_events_from_the_front() {
    let mut buffer = bounded(10, BufferKeep::Last);
    push(&mut buffer, 1..=5);
    assert_eq!(buffer.take(2).events, vec![1, 2]);
    assert!(buffer.take(0).events.is_empty());
    assert_eq!(buffer.take(10).events, vec![3, 4, 5]);
    assert!(buffer.take(10).events.is_empty());
}

// --- infos ---------------------------------------------------------------------------

#[test]
fn buffer_returns_an_info_at_once_when_it_holds_no_event() {
    let mut buffer = bounded(10, BufferKeep::Last);
    assert_eq!(buffer.push_info(InfoToken::new(1)), Some(InfoToken::new(1)));
    push(&mut buffer, [1]);
    take_all(&mut buffer);
    assert_eq!(buffer.push_info(InfoToken::new(2)), Some(InfoToken::new(2)));
}

#[test]
fn buffer_releases_an_info_only_after_the_events_pushed_before_it() {
    let mut buffer = bounded(10, BufferKeep::Last);
    push(&mut buffer, [1, 2]);
    assert_eq!(buffer.push_info(InfoToken::new(1)), None);
    push(&mut buffer, [3]);
    assert_eq!(buffer.push_info(InfoToken::new(2)), None);
    push(&mut buffer, [4]);

    let first = buffer.take(10);
    assert_eq!(
        (first.events, first.infos),
        (vec![1, 2], vec![InfoToken::new(1)])
    );
    let second = buffer.take(10);
    assert_eq!(
        (second.events, second.infos),
        (vec![3], vec![InfoToken::new(2)])
    );
    let third = buffer.take(10);
    assert_eq!((third.events, third.infos), (vec![4], vec![]));
}

#[test]
fn buffer_take_smaller_than_the_events_before_an_info_keeps_the_info() {
    let mut buffer = bounded(10, BufferKeep::Last);
    push(&mut buffer, [1, 2, 3]);
    assert_eq!(buffer.push_info(InfoToken::new(1)), None);
    let first = buffer.take(2);
    assert_eq!((first.events, first.infos), (vec![1, 2], vec![]));
    let second = buffer.take(2);
    assert_eq!(
        (second.events, second.infos),
        (vec![3], vec![InfoToken::new(1)])
    );
}

#[test]
fn buffer_releases_infos_after_the_same_event_together_in_order() {
    let mut buffer = bounded(10, BufferKeep::Last);
    push(&mut buffer, [1]);
    assert_eq!(buffer.push_info(InfoToken::new(1)), None);
    assert_eq!(buffer.push_info(InfoToken::new(2)), None);
    assert_eq!(
        buffer.take(5).infos,
        vec![InfoToken::new(1), InfoToken::new(2)]
    );
}

#[test]
fn buffer_keep_last_releases_infos_whose_events_it_discards() {
    let mut buffer = bounded(3, BufferKeep::Last);
    push(&mut buffer, [1, 2]);
    assert_eq!(buffer.push_info(InfoToken::new(1)), None);
    push(&mut buffer, [3]);
    assert_eq!(buffer.push_info(InfoToken::new(2)), None);

    // 1 and 2 make room: the info that waited for them is free; the one after 3 is not.
    let pushed = buffer.push(vec![4, 5]);
    assert_eq!(
        pushed,
        Pushed {
            discarded: 2,
            infos: vec![InfoToken::new(1)],
        }
    );
    let taken = buffer.take(10);
    assert_eq!(
        (taken.events, taken.infos),
        (vec![3], vec![InfoToken::new(2)])
    );
}

#[test]
fn buffer_keep_first_overflow_releases_no_info() {
    let mut buffer = bounded(2, BufferKeep::First);
    push(&mut buffer, [1, 2]);
    assert_eq!(buffer.push_info(InfoToken::new(1)), None);
    assert_eq!(push(&mut buffer, [3]), 1);
    let taken = buffer.take(10);
    assert_eq!(
        (taken.events, taken.infos),
        (vec![1, 2], vec![InfoToken::new(1)])
    );
}

// --- against a model -----------------------------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    Push(u8),
    Info,
    Take(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0_u8..8).prop_map(Op::Push),
        Just(Op::Info),
        (0_u8..8).prop_map(Op::Take),
    ]
}

/// The obvious buffer: a queue of events, each carrying the infos pushed right after it.
#[derive(Default)]
struct Model {
    queue: VecDeque<(u32, Vec<InfoToken>)>,
    limit: Option<usize>,
    keep_last: bool,
    discarded: u64,
}

impl Model {
    fn push(&mut self, events: Vec<u32>) -> (usize, Vec<InfoToken>) {
        let mut discarded = 0;
        let mut released = Vec::new();
        for event in events {
            self.queue.push_back((event, Vec::new()));
            if self.limit.is_some_and(|limit| self.queue.len() > limit) {
                discarded += 1;
                let gone = if self.keep_last {
                    self.queue.pop_front()
                } else {
                    self.queue.pop_back()
                };
                released.extend(gone.map(|(_, infos)| infos).unwrap_or_default());
            }
        }
        self.discarded += discarded as u64;
        (discarded, released)
    }

    fn push_info(&mut self, token: InfoToken) -> Option<InfoToken> {
        match self.queue.back_mut() {
            Some((_, infos)) => {
                infos.push(token);
                None
            }
            None => Some(token),
        }
    }

    fn take(&mut self, count: usize) -> (Vec<u32>, Vec<InfoToken>) {
        let mut events = Vec::new();
        while events.len() < count {
            let Some((event, infos)) = self.queue.pop_front() else {
                break;
            };
            events.push(event);
            if !infos.is_empty() {
                return (events, infos);
            }
        }
        (events, Vec::new())
    }
}

proptest! {
    /// Every push, info and take behaves as in the model: same discards, same events
    /// out in the same order, same infos released at the same moments.
    #[test]
    fn buffer_behaves_like_the_model(
        limit in prop::option::of(0_usize..6),
        keep_last in any::<bool>(),
        ops in prop::collection::vec(op(), 0..60),
    ) {
        let size = limit.map_or(BufferSize::Unbounded, BufferSize::Bounded);
        let keep = if keep_last { BufferKeep::Last } else { BufferKeep::First };
        let mut buffer = Buffer::new(size, keep);
        let mut model = Model { limit, keep_last, ..Model::default() };
        let mut next_event = 0;
        let mut next_token = 0;
        for op in ops {
            match op {
                Op::Push(count) => {
                    let events: Vec<u32> = (next_event..next_event + u32::from(count)).collect();
                    next_event += u32::from(count);
                    let pushed = buffer.push(events.clone());
                    prop_assert_eq!((pushed.discarded, pushed.infos), model.push(events));
                }
                Op::Info => {
                    let token = InfoToken::new(next_token);
                    next_token += 1;
                    prop_assert_eq!(buffer.push_info(token), model.push_info(token));
                }
                Op::Take(count) => {
                    let taken = buffer.take(usize::from(count));
                    prop_assert_eq!((taken.events, taken.infos), model.take(usize::from(count)));
                }
            }
            prop_assert_eq!(buffer.len(), model.queue.len());
            prop_assert_eq!(buffer.discarded_total(), model.discarded);
            if let Some(limit) = limit {
                prop_assert!(buffer.len() <= limit);
            }
        }
    }
}
