//! Loom models of the in-flight count behind await_quiescent: no lost wake-up, no early return.
#![cfg(loom)]

mod common;

use common::model;
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::thread;
use playhouse::loom_api::Quiet;
use std::sync::Arc;

/// A worker finishes the last item while a waiter goes to sleep: the waiter
/// is woken (loom reports a deadlock if the notification is lost).
#[test]
fn last_item_done_wakes_the_waiter() {
    model(|| {
        let quiet = Arc::new(Quiet::new());
        quiet.added(1);
        let q = quiet.clone();
        let worker = thread::spawn(move || q.done(1));
        assert_eq!(quiet.wait_idle(None, || (false, None)), Ok(()));
        worker.join().unwrap();
    });
}

/// A worker's item sends a message (counted first), then its own item ends,
/// and later the message is handled: the waiter never returns before the
/// message is handled, whatever the interleaving.
#[test]
fn waiter_never_returns_while_a_sent_message_is_pending() {
    model(|| {
        let quiet = Arc::new(Quiet::new());
        let handled = Arc::new(AtomicBool::new(false));
        quiet.added(1);
        let (q, h) = (quiet.clone(), handled.clone());
        let worker = thread::spawn(move || {
            q.added(1); // the handler sends a message
            q.done(1); // its own item ends
            h.store(true, Ordering::SeqCst); // the message is handled...
            q.done(1); // ...and uncounted
        });
        assert_eq!(quiet.wait_idle(None, || (false, None)), Ok(()));
        assert!(
            handled.load(Ordering::SeqCst),
            "quiescent with a message pending"
        );
        worker.join().unwrap();
    });
}

/// Shutdown waits for the last actor to stop: the stop (a counter decrement,
/// then a notification) racing the waiter going to sleep is never missed.
#[test]
fn last_actor_stopping_wakes_the_shutdown_waiter() {
    use loom::sync::atomic::AtomicUsize;
    model(|| {
        let quiet = Arc::new(Quiet::new());
        let alive = Arc::new(AtomicUsize::new(1));
        let (q, a) = (quiet.clone(), alive.clone());
        let actor = thread::spawn(move || {
            if a.fetch_sub(1, Ordering::AcqRel) == 1 {
                q.notify();
            }
        });
        assert!(quiet.wait_for(None, || alive.load(Ordering::Acquire) == 0));
        actor.join().unwrap();
    });
}

/// A turn counts its sends from a credit: the message it sends is handled
/// (and uncounted) on another worker before the turn gives back its unused
/// credit with its own item. The waiter returns only after both, and the
/// count ends at zero.
#[test]
fn credit_keeps_the_count_above_a_message_handled_before_its_turn_ends() {
    use playhouse::loom_api::Credit;
    model(|| {
        let quiet = Arc::new(Quiet::new());
        let (turn_done, handled) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        quiet.added(1); // the item the turn handles
        let (tx, rx) = loom::sync::mpsc::channel::<()>();
        let (q, t) = (quiet.clone(), turn_done.clone());
        let turn = thread::spawn(move || {
            let credit = Credit::default();
            assert!(credit.take(&q, &q)); // the handler sends a message
            tx.send(()).unwrap();
            t.store(true, Ordering::SeqCst);
            q.done(1 + credit.take_left()); // the turn ends
        });
        let (q, h) = (quiet.clone(), handled.clone());
        let other = thread::spawn(move || {
            rx.recv().unwrap();
            h.store(true, Ordering::SeqCst); // the message is handled...
            q.done(1); // ...and uncounted, maybe before the turn ends
        });
        assert_eq!(quiet.wait_idle(None, || (false, None)), Ok(()));
        assert!(turn_done.load(Ordering::SeqCst), "quiescent mid-turn");
        assert!(
            handled.load(Ordering::SeqCst),
            "quiescent with a message pending"
        );
        turn.join().unwrap();
        other.join().unwrap();
        assert_eq!(quiet.count(), 0, "the credit left was given back");
    });
}

/// A worker keeps its turns' units (their items and unused credit) as credit
/// for its next turns, and gives them back only when it runs out of work
/// (`Shared::turn_done` and the pool's idle hook, `Quiet::worker_idle`). Here its first turn
/// sends from a fresh chunk, its second sends from the units the first kept,
/// with no count update of its own, and another worker handles both
/// messages. The waiter returns only once both messages are handled and the
/// first worker is out of work, and the count ends at zero.
#[test]
fn units_a_worker_keeps_hold_the_count_until_it_runs_out_of_work() {
    use playhouse::loom_api::Credit;
    model(|| {
        let quiet = Arc::new(Quiet::new());
        let (handled, out_of_work) = (
            Arc::new(loom::sync::atomic::AtomicUsize::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        quiet.added(2); // the two items the first worker handles
        let (tx, rx) = loom::sync::mpsc::channel::<()>();
        let (q, o) = (quiet.clone(), out_of_work.clone());
        let first = thread::spawn(move || {
            let mut held = 0;
            for _ in 0..2 {
                // A turn: starts with what the worker kept, sends one
                // message, ends keeping its item and the unused credit.
                let credit = Credit::default();
                credit.add(held);
                assert!(credit.take(&q, &q));
                tx.send(()).unwrap();
                held = 1 + credit.take_left();
            }
            o.store(true, Ordering::SeqCst);
            q.done(held); // out of work: the idle hook
        });
        let (q, h) = (quiet.clone(), handled.clone());
        let second = thread::spawn(move || {
            for _ in 0..2 {
                rx.recv().unwrap();
                h.fetch_add(1, Ordering::SeqCst);
                q.done(1); // handled, and this worker is out of work at once
            }
        });
        assert_eq!(quiet.wait_idle(None, || (false, None)), Ok(()));
        assert_eq!(
            handled.load(Ordering::SeqCst),
            2,
            "quiescent with a message pending"
        );
        assert!(
            out_of_work.load(Ordering::SeqCst),
            "quiescent while a worker held units"
        );
        first.join().unwrap();
        second.join().unwrap();
        assert_eq!(quiet.count(), 0, "every unit was given back");
    });
}
