//! The journal test kit (in the spirit of Akka Persistence's TCK), run against the memory and the file journal.

mod persist_common;

use persist_common::TempDir;
use playhouse::persist::{FileJournal, FsyncPolicy, Journal, JournalError, MemoryJournal};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

const ALL: u64 = u64::MAX;

fn ev(n: u64) -> Vec<u8> {
    format!("event-{n}").into_bytes()
}

/// Writes events 1..=5 of stream "p", one append each.
fn five(j: &dyn Journal) {
    for n in 1..=5 {
        assert_eq!(j.append("p", n - 1, vec![ev(n)]).unwrap(), n);
    }
}

fn seqs(j: &dyn Journal, from: u64, to: u64, max: usize) -> Vec<u64> {
    let events = j.read("p", from, to, max).unwrap();
    for e in &events {
        assert_eq!(e.payload, ev(e.seq), "payload of seq {}", e.seq);
        assert_eq!(e.stream, "p");
    }
    events.iter().map(|e| e.seq).collect()
}

fn replay_all(j: &dyn Journal) {
    five(j);
    assert_eq!(seqs(j, 1, ALL, usize::MAX), vec![1, 2, 3, 4, 5]);
    assert_eq!(seqs(j, 0, ALL, usize::MAX), vec![1, 2, 3, 4, 5]);
}

fn replay_bounds_and_limits(j: &dyn Journal) {
    five(j);
    assert_eq!(seqs(j, 3, ALL, usize::MAX), vec![3, 4, 5], "lower bound");
    assert_eq!(seqs(j, 1, 3, usize::MAX), vec![1, 2, 3], "upper bound");
    assert_eq!(seqs(j, 1, ALL, 3), vec![1, 2, 3], "count limit");
    assert_eq!(seqs(j, 2, 3, usize::MAX), vec![2, 3], "lower and upper");
    assert_eq!(seqs(j, 2, ALL, 2), vec![2, 3], "lower and count");
    assert_eq!(seqs(j, 1, 4, 2), vec![1, 2], "upper and count");
    assert_eq!(seqs(j, 2, 5, 3), vec![2, 3, 4], "all three");
    assert_eq!(seqs(j, 3, 3, usize::MAX), vec![3], "lower == upper");
    assert_eq!(seqs(j, 4, 9, usize::MAX), vec![4, 5], "upper past the end");
}

fn replay_nothing(j: &dyn Journal) {
    five(j);
    assert!(seqs(j, 1, ALL, 0).is_empty(), "count 0");
    assert!(seqs(j, 4, 3, usize::MAX).is_empty(), "lower > upper");
    assert!(seqs(j, 6, ALL, usize::MAX).is_empty(), "lower past the end");
    assert!(
        j.read("unknown", 1, ALL, 10).unwrap().is_empty(),
        "unknown stream"
    );
    assert_eq!(j.highest_seq("unknown").unwrap(), 0);
}

fn highest_without_replay(j: &dyn Journal) {
    five(j);
    assert_eq!(j.highest_seq("p").unwrap(), 5);
}

fn deletion(j: &dyn Journal) {
    five(j);
    j.delete_to("p", 3).unwrap();
    assert_eq!(
        seqs(j, 1, ALL, usize::MAX),
        vec![4, 5],
        "deleted not replayed"
    );
    assert_eq!(j.highest_seq("p").unwrap(), 5);
    j.delete_to("p", 99).unwrap();
    assert!(seqs(j, 1, ALL, usize::MAX).is_empty());
    assert_eq!(j.highest_seq("p").unwrap(), 5, "highest seq not reset");
    assert!(matches!(
        j.append("p", 0, vec![ev(1)]),
        Err(JournalError::Conflict { actual: 5, .. })
    ));
    assert_eq!(
        j.append("p", 5, vec![ev(6)]).unwrap(),
        6,
        "numbers never reused"
    );
    assert_eq!(seqs(j, 1, ALL, usize::MAX), vec![6]);
}

fn atomic_batches(j: &dyn Journal) {
    assert_eq!(j.append("p", 0, vec![ev(1), ev(2), ev(3)]).unwrap(), 3);
    assert_eq!(j.append("p", 3, vec![ev(4), ev(5)]).unwrap(), 5);
    assert_eq!(seqs(j, 1, ALL, usize::MAX), vec![1, 2, 3, 4, 5]);
    // A conflicting batch writes none of its events.
    assert!(j.append("p", 4, vec![ev(5), ev(6)]).is_err());
    assert_eq!(j.highest_seq("p").unwrap(), 5);
    assert_eq!(
        j.append("p", 5, vec![]).unwrap(),
        5,
        "an empty append writes nothing"
    );
}

fn conflicts_and_bad_input(j: &dyn Journal) {
    five(j);
    assert_eq!(
        j.append("p", 3, vec![ev(4)]),
        Err(JournalError::Conflict {
            stream: "p".into(),
            expected: 3,
            actual: 5
        })
    );
    assert_eq!(
        j.append("", 0, vec![ev(1)]),
        Err(JournalError::EmptyStreamId)
    );
    assert_eq!(j.read("", 1, ALL, 1), Err(JournalError::EmptyStreamId));
    assert_eq!(j.highest_seq(""), Err(JournalError::EmptyStreamId));
    assert_eq!(j.delete_to("", 1), Err(JournalError::EmptyStreamId));
}

/// Writers race on one stream, each retrying on conflict: every append lands
/// exactly once, with contiguous seqs, and losers always see a conflict.
fn concurrent_writers(j: Arc<dyn Journal>) {
    const WRITERS: u64 = 4;
    const EACH: u64 = 25;
    let conflicts = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (j, conflicts) = (Arc::clone(&j), Arc::clone(&conflicts));
            std::thread::spawn(move || {
                for i in 0..EACH {
                    let payload = format!("{w}-{i}").into_bytes();
                    loop {
                        let hi = j.highest_seq("c").unwrap();
                        match j.append("c", hi, vec![payload.clone()]) {
                            Ok(n) => {
                                assert!(n > hi);
                                break;
                            }
                            Err(JournalError::Conflict { .. }) => {
                                conflicts.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => panic!("append failed: {e}"),
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let events = j.read("c", 1, ALL, usize::MAX).unwrap();
    assert_eq!(events.len() as u64, WRITERS * EACH);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1);
    }
    let mut payloads: Vec<_> = events.into_iter().map(|e| e.payload).collect();
    payloads.sort();
    payloads.dedup();
    assert_eq!(
        payloads.len() as u64,
        WRITERS * EACH,
        "an append landed twice"
    );
}

fn global_order(j: &dyn Journal) {
    j.append("a", 0, vec![b"a1".to_vec()]).unwrap();
    j.append("b", 0, vec![b"b1".to_vec(), b"b2".to_vec()])
        .unwrap();
    j.append("a", 1, vec![b"a2".to_vec()]).unwrap();
    assert_eq!(j.highest_offset(), 4);
    let all = j.read_all(1, usize::MAX).unwrap();
    let got: Vec<_> = all
        .iter()
        .map(|e| (e.offset, e.stream.as_str(), e.seq, e.payload.as_slice()))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "a", 1, &b"a1"[..]),
            (2, "b", 1, &b"b1"[..]),
            (3, "b", 2, &b"b2"[..]),
            (4, "a", 2, &b"a2"[..]),
        ]
    );
    let tail: Vec<_> = j.read_all(3, 1).unwrap().iter().map(|e| e.offset).collect();
    assert_eq!(tail, vec![3]);
    j.delete_to("b", 1).unwrap();
    let live: Vec<_> = j
        .read_all(1, usize::MAX)
        .unwrap()
        .iter()
        .map(|e| e.offset)
        .collect();
    assert_eq!(
        live,
        vec![1, 3, 4],
        "deleted events left out of the global order"
    );
    assert!(j.read_all(5, 10).unwrap().is_empty());
}

fn listeners_hear_appends(j: &dyn Journal) {
    let (tx, rx) = std::sync::mpsc::channel();
    j.subscribe(Box::new(move |offset| {
        let _ = tx.send(offset);
        offset < 3
    }));
    j.append("a", 0, vec![ev(1), ev(2)]).unwrap();
    j.append("b", 0, vec![ev(1)]).unwrap();
    j.append("b", 1, vec![ev(2)]).unwrap();
    let heard: Vec<u64> = rx.try_iter().collect();
    assert_eq!(
        heard,
        vec![2, 3],
        "listeners run before the append returns, until done"
    );
}

macro_rules! kit {
    ($($case:ident),* $(,)?) => {
        mod memory {
            use super::*;
            $(#[test] fn $case() { super::$case(&MemoryJournal::new()); })*
            #[test]
            fn concurrent_writers() {
                super::concurrent_writers(Arc::new(MemoryJournal::new()));
            }
        }
        mod file {
            use super::*;
            $(#[test] fn $case() {
                let dir = TempDir::new("tck");
                super::$case(&FileJournal::open(dir.path()).unwrap());
            })*
            #[test]
            fn reopen_restores_everything() {
                let dir = TempDir::new("tck");
                let j = FileJournal::builder(dir.path()).segment_size(128).open().unwrap();
                super::global_order(&j);
                super::five(&j);
                j.delete_to("p", 2).unwrap();
                let before = j.read_all(1, usize::MAX).unwrap();
                let highest = (j.highest_seq("p").unwrap(), j.highest_offset());
                drop(j);
                let j = FileJournal::open(dir.path()).unwrap();
                assert!(j.torn_tail().is_none());
                assert_eq!(j.read_all(1, usize::MAX).unwrap(), before);
                assert_eq!((j.highest_seq("p").unwrap(), j.highest_offset()), highest);
                assert_eq!(super::seqs(&j, 1, ALL, usize::MAX), vec![3, 4, 5]);
                assert_eq!(j.append("p", 5, vec![ev(6)]).unwrap(), 6);
                assert_eq!(j.highest_offset(), highest.1 + 1);
            }
            #[test]
            fn concurrent_writers() {
                let dir = TempDir::new("tck");
                super::concurrent_writers(Arc::new(FileJournal::open(dir.path()).unwrap()));
            }
            #[test]
            fn concurrent_writers_every_append_small_segments() {
                let dir = TempDir::new("tck");
                let j = FileJournal::builder(dir.path())
                    .fsync(FsyncPolicy::EveryAppend)
                    .segment_size(256)
                    .open()
                    .unwrap();
                super::concurrent_writers(Arc::new(j));
            }
        }
    };
}

kit!(
    replay_all,
    replay_bounds_and_limits,
    replay_nothing,
    highest_without_replay,
    deletion,
    atomic_batches,
    conflicts_and_bad_input,
    global_order,
    listeners_hear_appends,
);
