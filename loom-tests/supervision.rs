//! Loom models of child notices reaching a supervisor: no lost notice when children exit at once or while it stops.
#![cfg(loom)]

mod common;

use common::model;
use loom::thread;
use playhouse::loom_api::{Idle, Item, LoomMailbox, Schedule};
use std::sync::Arc;

/// Two children of a one-for-all supervisor fail at once: both exit notices
/// reach the supervisor exactly once (its bookkeeping then makes one group
/// restart of them, see tests/supervision.rs), and it is scheduled once.
#[test]
fn simultaneous_exit_notices_are_both_delivered_once() {
    model(|| {
        let sup = Arc::new(LoomMailbox::running(1));
        let children: Vec<_> = [1, 2]
            .into_iter()
            .map(|id| {
                let sup = sup.clone();
                thread::spawn(move || sup.push_control(id).unwrap() == Schedule::Submit)
            })
            .collect();
        let mut seen = Vec::new();
        let drain = |seen: &mut Vec<u32>| {
            while let Some(Item::Control(c)) = sup.pop() {
                seen.push(c);
            }
        };
        drain(&mut seen);
        let mut tokens = usize::from(sup.transition_to_idle() == Idle::Reschedule);
        for c in children {
            tokens += usize::from(c.join().unwrap());
        }
        assert!(tokens <= 1, "supervisor scheduled twice");
        if tokens == 1 {
            sup.transition_to_running();
            drain(&mut seen);
        }
        seen.sort_unstable();
        assert_eq!(seen, vec![1, 2], "a notice was lost or duplicated");
    });
}

/// A child's exit notice races the supervisor stopping for good: the notice is
/// either handled, drained by the close, or refused to the child; never lost
/// in between, never twice.
#[test]
fn exit_notice_racing_the_supervisor_close() {
    model(|| {
        let sup = Arc::new(LoomMailbox::running(1));
        let s = sup.clone();
        let child = thread::spawn(move || s.push_control(7).is_err());
        let handled = usize::from(matches!(sup.pop(), Some(Item::Control(7))));
        let drained = sup.close();
        let refused = usize::from(child.join().unwrap());
        assert_eq!(handled + drained + refused, 1);
    });
}
