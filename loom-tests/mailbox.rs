//! Loom models of the mailbox's scheduling state: no lost wake-up, no double schedule, no lost message.
#![cfg(loom)]

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use playhouse::loom_api::{CountingWaker, Idle, Item, LoomMailbox, PushOutcome, Schedule};
use std::sync::Arc;

/// Pops everything the runner may take, returning the user messages.
fn drain(mb: &LoomMailbox, seen: &mut Vec<u32>) {
    while let Some(item) = mb.pop() {
        if let Item::User(v) = item {
            seen.push(v);
        }
    }
}

/// Two senders race an actor whose worker is finishing its turn and going idle.
/// Exactly one run token must exist while a message is queued, and every
/// message is handled exactly once.
#[test]
fn idle_transition_keeps_racing_tells() {
    loom::model(|| {
        let mb = Arc::new(LoomMailbox::running(4));
        let senders: Vec<_> = (1..=2)
            .map(|v| {
                let mb = mb.clone();
                thread::spawn(move || mb.try_push(v).expect("room for two") == Schedule::Submit)
            })
            .collect();
        let mut seen = Vec::new();
        drain(&mb, &mut seen);
        let mut tokens = usize::from(mb.transition_to_idle_drained() == Idle::Reschedule);
        for s in senders {
            tokens += usize::from(s.join().unwrap());
        }
        assert!(tokens <= 1, "actor scheduled twice");
        if tokens == 1 {
            mb.transition_to_running();
            drain(&mb, &mut seen);
            assert_eq!(mb.transition_to_idle_drained(), Idle::Done);
        }
        seen.sort_unstable();
        assert_eq!(seen, vec![1, 2], "a message was lost or duplicated");
    });
}

/// As above, but the turn ends on its budget after one item, so the runner
/// must look at the lanes again before going idle.
#[test]
fn budget_end_of_turn_keeps_racing_tells() {
    loom::model(|| {
        let mb = Arc::new(LoomMailbox::running(4));
        assert!(mb.try_push(1).is_ok());
        let mb2 = mb.clone();
        let sender = thread::spawn(move || mb2.try_push(2).expect("room") == Schedule::Submit);
        let mut seen = Vec::new();
        if let Some(Item::User(v)) = mb.pop() {
            seen.push(v);
        }
        let mut tokens = usize::from(mb.transition_to_idle() == Idle::Reschedule);
        tokens += usize::from(sender.join().unwrap());
        assert!(tokens <= 1, "actor scheduled twice");
        if tokens == 1 {
            mb.transition_to_running();
            drain(&mb, &mut seen);
            assert_eq!(mb.transition_to_idle_drained(), Idle::Done);
        }
        assert_eq!(
            seen,
            vec![1, 2],
            "a message was lost, duplicated or reordered"
        );
    });
}

/// A control item (a stop request) races the idle transition like a message.
#[test]
fn control_item_schedules_idle_actor() {
    loom::model(|| {
        let mb = Arc::new(LoomMailbox::running(1));
        let mb2 = mb.clone();
        let sender = thread::spawn(move || mb2.push_control(7).unwrap() == Schedule::Submit);
        let mut got = Vec::new();
        if let Some(Item::Control(c)) = mb.pop() {
            got.push(c);
        }
        let mut tokens = usize::from(mb.transition_to_idle() == Idle::Reschedule);
        tokens += usize::from(sender.join().unwrap());
        assert!(tokens <= 1, "actor scheduled twice");
        if tokens == 1 {
            // A sender whose push was already taken may still schedule the actor
            // once more: a harmless empty turn, never a stranded item.
            mb.transition_to_running();
            if let Some(Item::Control(c)) = mb.pop() {
                got.push(c);
            }
            assert_eq!(mb.transition_to_idle(), Idle::Done);
        }
        assert_eq!(got, vec![7], "stop request stranded or duplicated");
    });
}

/// An actor parks a send on a full mailbox while the target drains: the parked
/// message moves in exactly once and its sender is woken exactly once.
#[test]
fn parked_send_resumes_once() {
    loom::model(|| {
        let mb = Arc::new(LoomMailbox::running(2));
        assert!(mb.try_push(1).is_ok());
        assert!(mb.try_push(2).is_ok());
        let waker = Arc::new(CountingWaker {
            woken: AtomicUsize::new(0),
        });
        let (mb2, w2) = (mb.clone(), waker.clone());
        let sender = thread::spawn(move || match mb2.push_or_park(3, &w2) {
            PushOutcome::Pushed(s) => (false, s == Schedule::Submit),
            PushOutcome::Parked => (true, false),
            PushOutcome::Closed(_) => panic!("mailbox is open"),
        });
        let mut seen = Vec::new();
        drain(&mb, &mut seen);
        let mut tokens = usize::from(mb.transition_to_idle_drained() == Idle::Reschedule);
        let (parked, submitted) = sender.join().unwrap();
        tokens += usize::from(submitted);
        if tokens == 1 {
            mb.transition_to_running();
            drain(&mb, &mut seen);
            assert_eq!(mb.transition_to_idle(), Idle::Done);
        }
        assert_eq!(seen, vec![1, 2, 3], "order or count broken");
        let expected = usize::from(parked);
        assert_eq!(waker.woken.load(Ordering::SeqCst), expected);
    });
}

/// Two actors each park a send on the other's full mailbox at the same moment:
/// at most one may park, or both would stay suspended for ever.
#[test]
fn two_actors_cannot_both_park_on_each_other() {
    loom::model(|| {
        let graph = Arc::new(playhouse::loom_api::WaitGraph::default());
        let g = graph.clone();
        let other = thread::spawn(move || g.try_wait(2, 1));
        let mine = graph.try_wait(1, 2);
        let theirs = other.join().unwrap();
        assert!(!(mine && theirs), "a cycle of suspended actors formed");
        assert!(mine || theirs, "neither may be refused without a cycle");
    });
}
