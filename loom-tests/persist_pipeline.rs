//! Loom models of the file journal's pipelined commit: the writer takes a batch, syncs it (marking it durable, or failing it and everything after), hands its answers to the completer through a second queue and takes its next batch at once; the completer delivers settled batches in the order they were handed over. Checks that an append is acknowledged only after its sync, that one stream's answers arrive in seq order while the next batch syncs, that nothing after a failed sync is acknowledged, and that close drains every accepted request through both threads (a lost wake-up or a stranded answer leaves a thread blocked, which loom reports).
#![cfg(loom)]

mod common;

use common::model;
use loom::sync::Mutex;
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::thread;
use playhouse::persist::loom_api::{CommitQueue, Completer, Release, complete, completion};
use std::sync::Arc;

/// An append's outcome: its seq, or a failure.
type Outcome = Result<usize, ()>;

/// How an append hears back: a callback (`append_with`) or a blocked
/// appender's one-shot (`append`).
enum Done {
    Call(Box<dyn FnOnce(Outcome) + Send>),
    Wait(Completer<Outcome>),
}

/// An append: its seq, whether its sync returned, how it hears back.
struct Req {
    seq: usize,
    durable: Arc<AtomicBool>,
    done: Done,
}

/// A settled batch: its requests and whether their sync succeeded.
type Settled = (Vec<Req>, bool);

/// The writer: batches of at most `max` requests (1: batch N is answered
/// while N+1 syncs), its sync failing on batch `fail_at` (0: never); once
/// one failed, every later batch fails too. Hands each settled batch over
/// and closes the completer's queue as it exits.
fn writer(
    q: Arc<CommitQueue<Req>>,
    settled: Arc<CommitQueue<Settled>>,
    max: usize,
    fail_at: usize,
) {
    let mut n = 0;
    let mut failed = false;
    while let Some(batch) = q.take(max) {
        n += 1;
        failed |= n == fail_at;
        if !failed {
            for r in &batch {
                // ORDERING: SeqCst, the model's flag; the handoff's lock
                // publishes it to the completer anyway.
                r.durable.store(true, Ordering::SeqCst);
            }
        }
        assert!(
            settled.submit((batch, !failed)).is_ok(),
            "open until the writer exits"
        );
    }
    settled.close();
}

/// The completer: delivers each settled batch's outcomes in batch order,
/// callbacks at once and blocked appenders through one release, as the
/// journal's completer does.
fn completer(settled: Arc<CommitQueue<Settled>>) {
    complete(&settled, |(batch, ok)| {
        let mut release = Release::new();
        for r in batch {
            let outcome = if ok { Ok(r.seq) } else { Err(()) };
            if outcome.is_ok() {
                assert!(
                    r.durable.load(Ordering::SeqCst),
                    "acknowledged before its sync"
                );
            }
            match r.done {
                Done::Call(f) => f(outcome),
                Done::Wait(c) => release.push(c, outcome),
            }
        }
        release.release();
    });
}

/// Starts a writer (batches of at most `max`, failing batch `fail_at`) and
/// a completer.
fn start(
    max: usize,
    fail_at: usize,
) -> (
    Arc<CommitQueue<Req>>,
    thread::JoinHandle<()>,
    thread::JoinHandle<()>,
) {
    let q = Arc::new(CommitQueue::<Req>::new());
    let settled = Arc::new(CommitQueue::<Settled>::new());
    let w = {
        let (q, settled) = (q.clone(), settled.clone());
        thread::spawn(move || writer(q, settled, max, fail_at))
    };
    let c = thread::spawn(move || completer(settled));
    (q, w, c)
}

/// A blocked appender's append of `seq`: submits it and waits for its
/// answer unless refused (the queue closed first).
fn blocked_append(q: &CommitQueue<Req>, seq: usize) -> Option<Outcome> {
    let (tx, rx) = completion();
    let req = Req {
        seq,
        durable: Arc::new(AtomicBool::new(false)),
        done: Done::Wait(tx),
    };
    match q.submit(req) {
        Ok(()) => Some(rx.wait().expect("accepted, so answered")),
        Err(_) => None,
    }
}

/// Submits appends `1..=n` with callbacks that log their outcomes, closes,
/// joins both threads and returns the log.
fn run_callbacks(n: usize, fail_at: usize) -> Vec<Outcome> {
    let (q, w, c) = start(1, fail_at);
    let log = Arc::new(Mutex::new(Vec::new()));
    for seq in 1..=n {
        let log = log.clone();
        let req = Req {
            seq,
            durable: Arc::new(AtomicBool::new(false)),
            done: Done::Call(Box::new(move |o| log.lock().unwrap().push(o))),
        };
        assert!(q.submit(req).is_ok());
    }
    q.close();
    w.join().unwrap();
    c.join().unwrap();
    let log = log.lock().unwrap().clone();
    log
}

/// Two appends of one stream in two batches: the first is answered while
/// the second syncs, yet the answers come in seq order, each after its sync,
/// and close drains both through the writer and the completer.
#[test]
fn pipelined_answers_follow_their_sync_in_seq_order() {
    model(|| assert_eq!(run_callbacks(2, 0), vec![Ok(1), Ok(2)]));
}

/// The second batch's sync fails while the first is being answered: the
/// first is acknowledged, the second and the third (taken after the
/// failure) fail, none is lost.
#[test]
fn a_failed_sync_fails_its_batch_and_every_later_one() {
    model(|| assert_eq!(run_callbacks(3, 2), vec![Ok(1), Err(()), Err(())]));
}

/// A blocked appender racing close: refused (handed back) or answered
/// through the writer and then the completer; never accepted and left
/// waiting.
#[test]
fn close_racing_a_blocked_append_drains_it_through_both_threads() {
    model(|| {
        let (q, w, c) = start(1, 0);
        let appender = {
            let q = q.clone();
            thread::spawn(move || blocked_append(&q, 1))
        };
        q.close();
        let answer = appender.join().unwrap();
        assert!(matches!(answer, None | Some(Ok(1))), "{answer:?}");
        w.join().unwrap();
        c.join().unwrap();
    });
}

/// Two blocked appenders: whether their appends share a batch or not, the
/// completer wakes each (the second through the first's relay when they
/// share one) after its sync, while the writer is free for the next batch.
#[test]
fn blocked_appenders_are_woken_by_the_completer_after_their_sync() {
    model(|| {
        let (q, w, c) = start(usize::MAX, 0);
        let appender = |seq| {
            let q = q.clone();
            thread::spawn(move || blocked_append(&q, seq))
        };
        let (a, b) = (appender(1), appender(2));
        assert_eq!(a.join().unwrap(), Some(Ok(1)));
        assert_eq!(b.join().unwrap(), Some(Ok(2)));
        q.close();
        w.join().unwrap();
        c.join().unwrap();
    });
}
