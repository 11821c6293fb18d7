//! Loom models of the one-shot reply slot: an answer racing the timeout and the reply being dropped.
#![cfg(loom)]

mod common;

use common::model;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use playhouse::loom_api::LoomSlot;
use std::sync::Arc;

/// The answer races the dropped-reply notice while the asker blocks: the asker
/// gets exactly the outcome of whichever decided, and the other learns it lost.
#[test]
fn reply_racing_drop_decides_once() {
    model(|| {
        let slot = LoomSlot::for_thread();
        let (a, b) = (slot.clone_slot(), slot.clone_slot());
        let replier = thread::spawn(move || a.reply(5).is_ok());
        let dropper = thread::spawn(move || b.drop_reply());
        let outcome = slot.wait();
        let (replied, dropped) = (replier.join().unwrap(), dropper.join().unwrap());
        assert!(replied ^ dropped, "decided twice or never");
        match outcome {
            Ok(5) => assert!(replied),
            Err(playhouse::AskError::ReplyDropped) => assert!(dropped),
            other => panic!("unexpected outcome {other:?}"),
        }
    });
}

/// The answer races a thread asker that looks once at `decided`, then goes
/// to sleep: the answerer notifies only a sleeping asker, so the asker must
/// never sleep past an answer (loom fails the model with a deadlock if it
/// does), and gets the answer whichever comes first.
#[test]
fn reply_reaches_an_asker_that_sleeps_after_its_spin() {
    model(|| {
        let slot = LoomSlot::for_thread();
        let a = slot.clone_slot();
        let replier = thread::spawn(move || a.reply(5));
        assert_eq!(slot.wait(), Ok(5));
        assert_eq!(replier.join().unwrap(), Ok(()));
    });
}

/// Two answers in a row from different threads, the asker sleeping: the
/// first decides and wakes it, the second finds the slot decided.
#[test]
fn only_the_first_of_two_answers_wakes_the_asker() {
    model(|| {
        let slot = LoomSlot::for_thread();
        let (a, b) = (slot.clone_slot(), slot.clone_slot());
        let first = thread::spawn(move || a.reply(5));
        let second = thread::spawn(move || b.reply(6));
        let got = slot.wait();
        let (r1, r2) = (first.join().unwrap(), second.join().unwrap());
        match got {
            Ok(5) => assert_eq!((r1, r2), (Ok(()), Err(6))),
            Ok(6) => assert_eq!((r1, r2), (Err(5), Ok(()))),
            other => panic!("unexpected outcome {other:?}"),
        }
    });
}

/// The answer races the asker's deadline: either the asker takes the answer or
/// the replier gets its value back. Never lost, never both.
#[test]
fn reply_racing_timeout_never_loses_the_value() {
    model(|| {
        let slot = LoomSlot::for_thread();
        let a = slot.clone_slot();
        let replier = thread::spawn(move || a.reply(5));
        let outcome = slot.abandon();
        match (outcome, replier.join().unwrap()) {
            (Ok(5), Ok(())) => {}
            (Err(playhouse::AskError::Timeout), Err(5)) => {}
            (o, r) => panic!("value lost or duplicated: {o:?} / {r:?}"),
        }
    });
}

/// An asking actor's slot: answer, timer and dropped reply race; the
/// continuation runs exactly once, with the winner's outcome.
#[test]
fn continuation_runs_once() {
    model(|| {
        let sink = Arc::new(AtomicUsize::new(0));
        let calls = Arc::new(AtomicUsize::new(0));
        let slot = LoomSlot::for_callback(sink.clone(), calls.clone());
        let (a, b) = (slot.clone_slot(), slot.clone_slot());
        let replier = thread::spawn(move || a.reply(5).is_ok());
        let timer = thread::spawn(move || b.time_out());
        let dropped = slot.drop_reply();
        let replied = replier.join().unwrap();
        let timed_out = timer.join().unwrap();
        assert_eq!(
            usize::from(replied) + usize::from(timed_out) + usize::from(dropped),
            1
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let expected = if replied { 5 } else { 1000 };
        assert_eq!(sink.load(Ordering::SeqCst), expected);
    });
}

/// A handler that drops the reply and then fails races the asker's deadline:
/// the asker sees the failure or its timeout, never `ReplyDropped` (the drop
/// inside the handler waits for the handler's outcome).
#[test]
fn failed_handler_decides_failed_not_reply_dropped() {
    model(|| {
        let slot = LoomSlot::for_thread();
        let handled = slot.clone_slot();
        let turn = thread::spawn(move || handled.handle_dropping_reply(true));
        let outcome = slot.abandon();
        turn.join().unwrap();
        assert!(
            matches!(
                outcome,
                Err(playhouse::AskError::Failed | playhouse::AskError::Timeout)
            ),
            "{outcome:?}"
        );
    });
}

/// The same handler returning normally: the dropped reply then decides
/// `ReplyDropped`, once the handler returns.
#[test]
fn handler_dropping_its_reply_decides_reply_dropped() {
    model(|| {
        let slot = LoomSlot::for_thread();
        let handled = slot.clone_slot();
        let turn = thread::spawn(move || handled.handle_dropping_reply(false));
        let outcome = slot.wait();
        turn.join().unwrap();
        assert_eq!(outcome, Err(playhouse::AskError::ReplyDropped));
    });
}
