//! The journal test kit (in the spirit of Akka Persistence's TCK), run against the memory and the file journal.

mod persist_common;

use persist_common::TempDir;
use playhouse::persist::{
    AppendListener, EventRef, FileJournal, FsyncPolicy, Journal, JournalError, MemoryJournal,
    PersistedEvent,
};
use std::ops::ControlFlow;
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

/// Appends queued without waiting (so they may share a batch): each is
/// checked against the ones queued before it, on new and known streams.
fn queued_appends_check_in_order(j: &dyn Journal) {
    j.append("old", 0, vec![ev(1)]).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let queue = [
        ("new", 0),
        ("old", 1),
        ("new", 1),
        ("new", 0),
        ("old", 2),
        ("old", 1),
    ];
    for (i, (stream, expected)) in queue.into_iter().enumerate() {
        let tx = tx.clone();
        let events = vec![ev(i as u64)];
        j.append_with(
            stream,
            expected,
            events,
            Box::new(move |r| drop(tx.send((i, r)))),
        );
    }
    drop(tx);
    let mut outcomes: Vec<_> = rx.iter().collect();
    outcomes.sort_by_key(|&(i, _)| i);
    let conflict = |stream: &str, expected, actual| {
        Err(JournalError::Conflict {
            stream: stream.into(),
            expected,
            actual,
        })
    };
    let outcomes: Vec<_> = outcomes.into_iter().map(|(_, r)| r).collect();
    assert_eq!(
        outcomes,
        vec![
            Ok(1),
            Ok(2),
            Ok(2),
            conflict("new", 0, 2),
            Ok(3),
            conflict("old", 1, 3)
        ]
    );
    assert_eq!((j.highest_seq("new"), j.highest_seq("old")), (Ok(2), Ok(3)));
    let offsets: Vec<u64> = j
        .read_all(1, usize::MAX)
        .unwrap()
        .iter()
        .map(|e| e.offset)
        .collect();
    assert_eq!(offsets, vec![1, 2, 3, 4, 5]);
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

/// What `read_with` lends for a range, copied out, and how many it saw.
fn lent(j: &dyn Journal, stream: &str, from: u64, to: u64, max: usize) -> Vec<PersistedEvent> {
    let mut out = Vec::new();
    let seen = j
        .read_with(stream, from, to, max, &mut |e: EventRef<'_>| {
            out.push(e.to_owned());
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(seen, out.len(), "the count is the events lent");
    out
}

fn lent_all(j: &dyn Journal, from: u64, max: usize) -> Vec<PersistedEvent> {
    let mut out = Vec::new();
    let seen = j
        .read_all_with(from, max, &mut |e| {
            out.push(e.to_owned());
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(seen, out.len(), "the count is the events lent");
    out
}

/// `read_with` lends exactly what `read` returns, for every kind of range.
fn lending_read_ranges(j: &dyn Journal) {
    j.append("p", 0, vec![ev(1), ev(2)]).unwrap();
    j.append("q", 0, vec![ev(1)]).unwrap();
    j.append("p", 2, vec![ev(3), ev(4), ev(5)]).unwrap();
    let ranges = [
        (1, ALL, usize::MAX),
        (0, ALL, usize::MAX),
        (3, ALL, usize::MAX),
        (1, 3, usize::MAX),
        (1, ALL, 3),
        (2, 4, 2),
        (3, 3, usize::MAX),
        (2, 2, 1),
        (1, ALL, 0),
        (4, 3, usize::MAX),
        (6, ALL, usize::MAX),
    ];
    for (from, to, max) in ranges {
        let read = j.read("p", from, to, max).unwrap();
        assert_eq!(
            lent(j, "p", from, to, max),
            read,
            "range {from}..={to} max {max}"
        );
    }
    let three = lent(j, "p", 2, 4, usize::MAX);
    assert_eq!(three.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3, 4]);
    assert!(
        three
            .iter()
            .all(|e| e.stream == "p" && e.payload == ev(e.seq))
    );
    assert!(lent(j, "unknown", 1, ALL, 10).is_empty());
    assert_eq!(
        j.read_with("", 1, ALL, 10, &mut |_| ControlFlow::Continue(())),
        Err(JournalError::EmptyStreamId)
    );
    for (from, max) in [(1, usize::MAX), (2, 2), (3, 1), (6, 10), (1, 0)] {
        assert_eq!(
            lent_all(j, from, max),
            j.read_all(from, max).unwrap(),
            "from {from} max {max}"
        );
    }
}

/// Deleted events are not lent, by stream or in global order.
fn lending_read_after_deletion(j: &dyn Journal) {
    five(j);
    j.append("q", 0, vec![ev(1)]).unwrap();
    j.delete_to("p", 3).unwrap();
    let seqs: Vec<u64> = lent(j, "p", 1, ALL, usize::MAX)
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, [4, 5]);
    let all: Vec<(String, u64)> = lent_all(j, 1, usize::MAX)
        .into_iter()
        .map(|e| (e.stream, e.seq))
        .collect();
    assert_eq!(all, [("p".into(), 4), ("p".into(), 5), ("q".into(), 1)]);
}

/// `Break` stops the read at that event, inside an append of several events
/// too; the visitor may call the journal (no lock is held while it runs).
fn lending_read_stops_early(j: &dyn Journal) {
    j.append("p", 0, vec![ev(1), ev(2), ev(3)]).unwrap();
    j.append("p", 3, vec![ev(4), ev(5)]).unwrap();
    let mut visited = Vec::new();
    let seen = j
        .read_with("p", 1, ALL, usize::MAX, &mut |e| {
            assert_eq!(j.highest_seq(e.stream).unwrap(), 5);
            visited.push(e.seq);
            if e.seq == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!((seen, visited), (2, vec![1, 2]));
    let mut visited = Vec::new();
    let seen = j
        .read_all_with(4, usize::MAX, &mut |e| {
            visited.push(e.offset);
            ControlFlow::Break(())
        })
        .unwrap();
    assert_eq!((seen, visited), (1, vec![4]));
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
    queued_appends_check_in_order,
    global_order,
    listeners_hear_appends,
    lending_read_ranges,
    lending_read_after_deletion,
    lending_read_stops_early,
);

/// A journal that implements only what the trait requires, so the default
/// lending reads (on top of `read` and `read_all`) are what run.
struct Plain(MemoryJournal);

impl Journal for Plain {
    fn append(
        &self,
        stream: &str,
        expected: u64,
        events: Vec<Vec<u8>>,
    ) -> Result<u64, JournalError> {
        self.0.append(stream, expected, events)
    }
    fn read(
        &self,
        stream: &str,
        from: u64,
        to: u64,
        max: usize,
    ) -> Result<Vec<PersistedEvent>, JournalError> {
        self.0.read(stream, from, to, max)
    }
    fn highest_seq(&self, stream: &str) -> Result<u64, JournalError> {
        self.0.highest_seq(stream)
    }
    fn delete_to(&self, stream: &str, seq: u64) -> Result<(), JournalError> {
        self.0.delete_to(stream, seq)
    }
    fn read_all(&self, from: u64, max: usize) -> Result<Vec<PersistedEvent>, JournalError> {
        self.0.read_all(from, max)
    }
    fn highest_offset(&self) -> u64 {
        self.0.highest_offset()
    }
    fn subscribe(&self, listener: AppendListener) {
        self.0.subscribe(listener)
    }
}

#[test]
fn default_lending_reads_match_the_owned_reads() {
    lending_read_ranges(&Plain(MemoryJournal::new()));
    lending_read_after_deletion(&Plain(MemoryJournal::new()));
    lending_read_stops_early(&Plain(MemoryJournal::new()));
}

/// A record damaged on disk after the journal opened is a typed
/// `Corruption` naming the file and the record's offset; the events before it
/// were lent, none after.
#[cfg(unix)]
#[test]
fn lending_read_reports_a_record_damaged_after_open() {
    let dir = TempDir::new("tck-damage");
    let j = FileJournal::open(dir.path()).unwrap();
    j.append("p", 0, vec![ev(1)]).unwrap();
    let seg = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "journal"))
        .unwrap();
    let good = std::fs::metadata(&seg).unwrap().len();
    j.append("p", 1, vec![ev(2), ev(3)]).unwrap();
    let end = std::fs::metadata(&seg).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&file, &vec![0; (end - good) as usize], good).unwrap();
    let mut visited = Vec::new();
    let got = j.read_with("p", 1, ALL, usize::MAX, &mut |e| {
        visited.push(e.seq);
        ControlFlow::Continue(())
    });
    match got {
        Err(JournalError::Corruption { file, offset, .. }) => {
            assert_eq!((file, offset), (seg, good));
        }
        other => panic!("expected corruption, got {other:?}"),
    }
    assert_eq!(visited, [1]);
    assert!(matches!(
        j.read_all_with(1, usize::MAX, &mut |_| ControlFlow::Continue(())),
        Err(JournalError::Corruption { .. })
    ));
}
