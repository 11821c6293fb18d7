//! Loom models of stopping an actor while others send to it: every message is delivered or handed back.
#![cfg(loom)]

mod common;

use common::model;
use loom::thread;
use playhouse::loom_api::{Item, LoomMailbox};
use std::sync::Arc;

/// A tell races the close of the mailbox (the actor stopping, or shutdown): the
/// message is either handed back to the sender, or drained as a dead letter, or
/// was handled before — never lost, never both.
#[test]
fn close_racing_tell_delivers_or_returns() {
    model(|| {
        let mb = Arc::new(LoomMailbox::running(2));
        let mb2 = mb.clone();
        let sender = thread::spawn(move || mb2.try_push(9));
        let mut handled = 0;
        if let Some(Item::User(9)) = mb.pop() {
            handled += 1;
        }
        let drained = mb.close_user();
        let returned = match sender.join().unwrap() {
            Ok(_) => 0,
            Err((9, true)) => 1,
            Err(_) => panic!("refused for a reason other than closed"),
        };
        assert_eq!(handled + drained.len() + returned, 1);
    });
}

/// A sender blocked on a full mailbox wakes when the mailbox closes and gets its
/// message back (no lost wake-up on the room condition variable).
#[test]
fn close_wakes_blocked_sender() {
    model(|| {
        let mb = Arc::new(LoomMailbox::running(1));
        assert!(mb.try_push(1).is_ok());
        let mb2 = mb.clone();
        let sender = thread::spawn(move || mb2.push_blocking(2));
        let drained = mb.close_user();
        let outcome = sender.join().unwrap();
        match outcome {
            Err(2) => assert_eq!(drained, vec![1]),
            Ok(_) => unreachable!("a full mailbox took a message before closing"),
            Err(v) => panic!("wrong message back: {v}"),
        }
    });
}

/// A blocked sender wakes when the actor takes a message and makes room.
#[test]
fn pop_wakes_blocked_sender() {
    model(|| {
        let mb = Arc::new(LoomMailbox::running(1));
        assert!(mb.try_push(1).is_ok());
        let mb2 = mb.clone();
        let sender = thread::spawn(move || mb2.push_blocking(2).is_ok());
        assert!(matches!(mb.pop(), Some(Item::User(1))));
        assert!(sender.join().unwrap());
        assert!(matches!(mb.pop(), Some(Item::User(2))));
    });
}
