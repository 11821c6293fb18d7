//! Loom models of watch registration racing the watched actor's stop: the notice arrives exactly once.
#![cfg(loom)]

mod common;

use common::model;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use playhouse::loom_api::Watchers;
use playhouse::{ExitReason, Terminated};
use std::sync::Arc;

fn notice() -> Terminated {
    Terminated {
        id: 7,
        name: None,
        reason: ExitReason::Normal,
    }
}

/// A watcher registers while the actor stops: notified once, by one side.
#[test]
fn watch_racing_stop_notifies_exactly_once() {
    model(|| {
        let watchers = Arc::new(Watchers::new());
        let count = Arc::new(AtomicUsize::new(0));
        let (w, c) = (watchers.clone(), count.clone());
        let watcher = thread::spawn(move || {
            w.add(
                1,
                Box::new(move |t| {
                    assert_eq!(t.id, 7);
                    c.fetch_add(1, Ordering::SeqCst);
                }),
            );
        });
        watchers.end(notice());
        watcher.join().unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 1);
    });
}

/// A watcher unwatches while the actor stops: notified at most once.
#[test]
fn unwatch_racing_stop_notifies_at_most_once() {
    model(|| {
        let watchers = Arc::new(Watchers::new());
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        watchers.add(
            1,
            Box::new(move |_| {
                c.fetch_add(1, Ordering::SeqCst);
            }),
        );
        let w = watchers.clone();
        let unwatch = thread::spawn(move || w.remove(1));
        watchers.end(notice());
        unwatch.join().unwrap();
        assert!(count.load(Ordering::SeqCst) <= 1);
    });
}
