//! Priority merge (strict order and weighted fairness) and broadcast.

mod common;

use common::{Gate, LIMIT, init_log, wait_until};
use playhouse::System;
use playhouse::stream::{Fairness, Sink, Source, StreamHandle};

fn system() -> System {
    init_log();
    System::builder().workers(2).build().unwrap()
}

/// Merges ten `'H'` at priority `high` with ten `'L'` at priority 1 into a
/// sink of buffer one that holds its first element until the merge has
/// received all twenty; returns what came after that first element.
fn merged_after_gate(fairness: Fairness, high: u32) -> Vec<char> {
    let system = system();
    let gate = Gate::new();
    let g = gate.clone();
    let (tx, rx) = crossbeam_channel::unbounded();
    let mut first = true;
    let handle: StreamHandle<()> = Source::merge(
        vec![
            (high, Source::from_iter(vec!['H'; 10])),
            (1, Source::from_iter(vec!['L'; 10])),
        ],
        fairness,
    )
    .buffer_size(1)
    .to(Sink::for_each(move |c| {
        if std::mem::take(&mut first) {
            g.wait();
        } else {
            tx.send(c).unwrap();
        }
    }))
    .run(&system)
    .unwrap();
    wait_until("the merge holds every input", || {
        handle
            .metrics()
            .iter()
            .any(|m| m.name.ends_with("merge") && m.elements_in == 20)
    });
    gate.open();
    handle.wait(LIMIT).unwrap();
    let rest: Vec<char> = rx.iter().collect();
    assert_eq!(rest.len(), 19);
    system.shutdown().unwrap();
    rest
}

#[test]
fn strict_priority_takes_every_high_element_first() {
    let rest = merged_after_gate(Fairness::Strict, 5);
    let highs = rest.iter().filter(|c| **c == 'H').count();
    assert!(highs == 9 || highs == 10);
    assert!(
        rest[..highs].iter().all(|c| *c == 'H'),
        "a low element before a high one: {rest:?}"
    );
}

#[test]
fn weighted_fairness_serves_low_priority_in_proportion() {
    let rest = merged_after_gate(Fairness::Weighted, 3);
    // While both inputs are ready, weights 3 and 1 give H H L H, repeating.
    assert_eq!(
        &rest[..8],
        &['H', 'H', 'L', 'H', 'H', 'H', 'L', 'H'],
        "{rest:?}"
    );
}

/// Every element of every input arrives once, each input's in order, with
/// buffers of one and of the default size.
#[test]
fn merge_completes_when_every_input_has() {
    let system = system();
    for buffer in [1, 32] {
        let out = Source::merge(
            vec![
                (2, Source::from_iter(0..100).buffer_size(buffer)),
                (1, Source::from_iter(100..150).buffer_size(buffer)),
                (1, Source::from_iter(150..151).buffer_size(buffer)),
            ],
            Fairness::Weighted,
        )
        .to(Sink::collect())
        .run(&system)
        .unwrap()
        .wait(LIMIT)
        .unwrap();
        for range in [0..100, 100..150, 150..151] {
            let part: Vec<i32> = out.iter().copied().filter(|n| range.contains(n)).collect();
            assert_eq!(part, range.collect::<Vec<_>>());
        }
        assert_eq!(out.len(), 151);
    }
    system.shutdown().unwrap();
}

#[test]
fn broadcast_gives_every_branch_every_element() {
    let system = system();
    let out = Source::from_iter(0..500u32)
        .buffer_size(1)
        .map(|n| n + 1)
        .broadcast(vec![Sink::collect(), Sink::collect(), Sink::collect()])
        .run(&system)
        .unwrap()
        .wait(LIMIT)
        .unwrap();
    let want: Vec<u32> = (1..=500).collect();
    assert_eq!(out, vec![want.clone(), want.clone(), want]);
    system.shutdown().unwrap();
}

/// A branch that wants no more is detached; the others get every element.
#[test]
fn broadcast_goes_on_without_a_branch_that_stopped() {
    let system = system();
    let (tx, rx) = crossbeam_channel::unbounded();
    let handle = Source::from_iter(0..300u32)
        .broadcast(vec![
            Sink::for_each_while(move |n| {
                tx.send(n).unwrap();
                n < 9
            }),
            Sink::for_each(|_| {}),
        ])
        .run(&system)
        .unwrap();
    assert_eq!(handle.wait(LIMIT).unwrap(), vec![(), ()]);
    assert_eq!(rx.iter().collect::<Vec<_>>(), (0..10).collect::<Vec<_>>());
    system.shutdown().unwrap();
}
