//! Loom models of the file journal's group commit: appenders queue requests, one writer takes and syncs batches and releases each batch's one-shots as a tree (the writer fills the first and hands it the rest, each woken appender passes what it holds on in two halves); every accepted request is completed after a sync covering it, and close drains. Queue and one-shot signal only a side that marked itself waiting, so the models also check that no wake-up is lost, relayed ones included (loom reports a deadlock if one is).
#![cfg(loom)]

mod common;

use common::model;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::thread;
use playhouse::persist::loom_api::{CommitQueue, Completer, Completion, Release, completion};
use std::sync::Arc;

type Req = (Arc<AtomicBool>, Completer<usize>);

/// The writer: takes batches, "writes" and "syncs" them (marking each
/// durable), then releases each one's one-shots together with the number
/// of syncs so far, as the journal's writer does.
fn writer(q: Arc<CommitQueue<Req>>, syncs: Arc<AtomicUsize>) {
    while let Some(batch) = q.take(usize::MAX) {
        for (durable, _) in &batch {
            durable.store(true, Ordering::SeqCst);
        }
        let n = syncs.fetch_add(1, Ordering::SeqCst) + 1;
        let mut release = Release::new();
        for (_, done) in batch {
            release.push(done, n);
        }
        release.release();
    }
}

/// Two appenders race the writer: each is acknowledged only after a sync
/// that covered its request, and the writer exits after close.
#[test]
fn every_append_is_acknowledged_after_its_sync() {
    model(|| {
        let q = Arc::new(CommitQueue::<Req>::new());
        let syncs = Arc::new(AtomicUsize::new(0));
        let w = {
            let (q, syncs) = (q.clone(), syncs.clone());
            thread::spawn(move || writer(q, syncs))
        };
        let appender = |q: Arc<CommitQueue<Req>>| {
            thread::spawn(move || {
                let durable = Arc::new(AtomicBool::new(false));
                let (tx, rx) = completion();
                assert!(q.submit((durable.clone(), tx)).is_ok());
                let n = rx.wait().expect("completed");
                assert!(
                    durable.load(Ordering::SeqCst),
                    "acknowledged before its sync"
                );
                n
            })
        };
        let a = appender(q.clone());
        let b = appender(q.clone());
        let (na, nb) = (a.join().unwrap(), b.join().unwrap());
        assert!(na >= 1 && nb >= 1);
        q.close();
        w.join().unwrap();
        // One or two syncs: two appends may share one.
        assert!((1..=2).contains(&syncs.load(Ordering::SeqCst)));
    });
}

/// A submit racing close is either refused (handed back) or completed by
/// the draining writer: never accepted and forgotten.
#[test]
fn close_racing_submit_never_forgets_a_request() {
    model(|| {
        let q = Arc::new(CommitQueue::<Req>::new());
        let syncs = Arc::new(AtomicUsize::new(0));
        let w = {
            let (q, syncs) = (q.clone(), syncs.clone());
            thread::spawn(move || writer(q, syncs))
        };
        let submitter = {
            let q = q.clone();
            thread::spawn(move || {
                let durable = Arc::new(AtomicBool::new(false));
                let (tx, rx) = completion();
                match q.submit((durable.clone(), tx)) {
                    Ok(()) => {
                        assert!(rx.wait().is_some(), "accepted but never completed");
                        assert!(durable.load(Ordering::SeqCst));
                    }
                    Err(_) => {}
                }
            })
        };
        q.close();
        submitter.join().unwrap();
        w.join().unwrap();
    });
}

/// The handshake alone: one appender racing a writer that finds the queue
/// empty and marks itself waiting. Whichever goes first, the writer takes
/// the request and the appender hears back (a lost wake-up leaves both
/// blocked, which loom reports).
#[test]
fn a_submit_racing_the_writer_going_to_wait_wakes_it() {
    model(|| {
        let q = Arc::new(CommitQueue::<Completer<usize>>::new());
        let w = {
            let q = q.clone();
            thread::spawn(move || {
                let batch = q.take(usize::MAX).expect("one request");
                assert_eq!(batch.len(), 1);
                for done in batch {
                    done.complete(7);
                }
            })
        };
        let (tx, rx) = completion();
        assert!(q.submit(tx).is_ok());
        assert_eq!(rx.wait(), Some(7));
        w.join().unwrap();
    });
}

/// A request dropped unfilled (a writer gone) wakes its waiter with `None`.
#[test]
fn dropped_completer_wakes_the_waiter() {
    model(|| {
        let (tx, rx) = completion::<usize>();
        let t = thread::spawn(move || drop(tx));
        assert_eq!(rx.wait(), None);
        t.join().unwrap();
    });
}

/// Three one-shots; `first` gets the first one's waiting side, the second
/// waits on a thread of its own. Releases the three (values 1, 2, 3) as the
/// writer does, then checks what the second and third appenders got.
fn release_three(first: impl FnOnce(Completion<usize>) + Send + 'static) {
    let (tx_a, rx_a) = completion::<usize>();
    let (tx_b, rx_b) = completion::<usize>();
    let (tx_c, rx_c) = completion::<usize>();
    let a = thread::spawn(move || first(rx_a));
    let b = thread::spawn(move || rx_b.wait());
    let mut release = Release::new();
    release.push(tx_a, 1);
    release.push(tx_b, 2);
    release.push(tx_c, 3);
    release.release();
    assert_eq!(rx_c.wait(), Some(3));
    assert_eq!(b.join().unwrap(), Some(2));
    a.join().unwrap();
}

/// A release of three one-shots is a tree: the first is filled by the
/// releaser and carries the other two, which its appender fills and wakes.
/// The first appender leaves without waiting, racing the release: whether it
/// leaves before its slot is filled (the releaser passes the relay on) or
/// after (its drop passes it on), the other two are woken.
#[test]
fn a_relay_through_an_appender_that_left_still_wakes_the_rest() {
    model(|| release_three(drop));
}

/// Three waiting appenders of one release: the releaser wakes the first,
/// which wakes the second and the third; each gets its own value.
#[test]
fn a_release_wakes_every_waiter_through_the_relay() {
    model(|| release_three(|rx| assert_eq!(rx.wait(), Some(1))));
}
