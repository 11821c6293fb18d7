//! File journal recovery: torn tails cut at every byte, flipped bytes, corruption in the middle, bad headers, the lock, bad settings, and injected write and fsync failures.

mod persist_common;

use persist_common::{Faulty, FaultyStorage, TempDir};
use playhouse::persist::{FileJournal, FsyncPolicy, Journal, JournalError};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, mpsc};

fn ev(n: u64) -> Vec<u8> {
    format!("payload {n}").into_bytes()
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "journal"))
        .collect();
    v.sort();
    v
}

/// Writes `n` single-event appends; returns the segment's length before the
/// last one and after it.
fn write_n(dir: &Path, n: u64) -> (u64, u64) {
    let j = FileJournal::open(dir).unwrap();
    for i in 1..n {
        j.append("s", i - 1, vec![ev(i)]).unwrap();
    }
    let seg = &segments(dir)[0];
    let before = std::fs::metadata(seg).unwrap().len();
    j.append("s", n - 1, vec![ev(n), ev(n + 100)]).unwrap();
    drop(j);
    (before, std::fs::metadata(seg).unwrap().len())
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

/// After recovery to `kept` appends, ten more appends and a reopen show all.
fn check_recovered_then_append(dir: &Path, kept: u64) {
    let j = FileJournal::open(dir).unwrap();
    assert_eq!(
        j.highest_seq("s").unwrap(),
        if kept == 5 { 6 } else { kept }
    );
    let base = j.highest_seq("s").unwrap();
    for i in 0..10 {
        j.append("s", base + i, vec![ev(1000 + i)]).unwrap();
    }
    drop(j);
    let j = FileJournal::open(dir).unwrap();
    assert!(j.torn_tail().is_none(), "a clean reopen cuts nothing");
    let events = j.read("s", 1, u64::MAX, usize::MAX).unwrap();
    assert_eq!(events.len() as u64, base + 10);
    for (i, e) in events.iter().enumerate() {
        let i = i as u64;
        assert_eq!(e.seq, i + 1);
        let want = if i < kept.min(4) {
            ev(i + 1)
        } else if kept == 5 && i == 4 {
            ev(5)
        } else if kept == 5 && i == 5 {
            ev(105)
        } else {
            ev(1000 + i - base)
        };
        assert_eq!(e.payload, want, "seq {}", e.seq);
    }
}

#[test]
fn torn_tail_cut_at_every_byte_of_the_last_record() {
    let src = TempDir::new("torn");
    let (before, after) = write_n(src.path(), 5);
    for cut in before..after {
        let dir = TempDir::new("torn-cut");
        copy_dir(src.path(), dir.path());
        let seg = &segments(dir.path())[0];
        std::fs::OpenOptions::new()
            .write(true)
            .open(seg)
            .unwrap()
            .set_len(cut)
            .unwrap();
        let j = FileJournal::open(dir.path()).unwrap();
        let torn = j.torn_tail().cloned();
        if cut == before {
            assert!(torn.is_none(), "nothing torn at a record boundary");
        } else {
            let torn = torn.expect("torn tail reported");
            assert_eq!((torn.offset, torn.dropped), (before, cut - before));
        }
        // The last append (two events) is gone as a whole: atomic.
        assert_eq!(j.highest_seq("s").unwrap(), 4, "cut at {cut}");
        drop(j);
        check_recovered_then_append(dir.path(), 4);
    }
}

#[test]
fn a_flipped_byte_in_the_last_record_is_a_torn_tail() {
    let src = TempDir::new("flip");
    let (before, after) = write_n(src.path(), 5);
    for at in before..after {
        let dir = TempDir::new("flip-at");
        copy_dir(src.path(), dir.path());
        let seg = &segments(dir.path())[0];
        let mut bytes = std::fs::read(seg).unwrap();
        bytes[at as usize] ^= 0x10;
        std::fs::write(seg, &bytes).unwrap();
        let j = FileJournal::open(dir.path()).unwrap();
        assert_eq!(
            j.torn_tail().map(|t| t.offset),
            Some(before),
            "flip at {at}"
        );
        assert_eq!(j.highest_seq("s").unwrap(), 4);
        drop(j);
        check_recovered_then_append(dir.path(), 4);
    }
}

#[test]
fn intact_journal_reopens_whole() {
    let dir = TempDir::new("intact");
    write_n(dir.path(), 5);
    check_recovered_then_append(dir.path(), 5);
}

#[test]
fn a_corrupt_record_in_the_middle_is_corruption() {
    let dir = TempDir::new("middle");
    let j = FileJournal::open(dir.path()).unwrap();
    let seg = segments(dir.path())[0].clone();
    j.append("s", 0, vec![ev(1)]).unwrap();
    let second = std::fs::metadata(&seg).unwrap().len();
    for i in 2..=4 {
        j.append("s", i - 1, vec![ev(i)]).unwrap();
    }
    drop(j);
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[second as usize + 12] ^= 0xff;
    std::fs::write(&seg, &bytes).unwrap();
    match FileJournal::open(dir.path()) {
        Err(JournalError::Corruption { file, offset, .. }) => {
            assert_eq!((file, offset), (seg, second));
        }
        other => panic!("expected corruption, got {other:?}"),
    }
}

#[test]
fn damage_in_a_sealed_segment_is_corruption_even_at_its_end() {
    let dir = TempDir::new("sealed");
    let j = FileJournal::builder(dir.path())
        .segment_size(64)
        .open()
        .unwrap();
    for i in 1..=4 {
        j.append("s", i - 1, vec![ev(i)]).unwrap();
    }
    drop(j);
    let segs = segments(dir.path());
    assert!(
        segs.len() >= 3,
        "rotation by size made {} segments",
        segs.len()
    );
    let len = std::fs::metadata(&segs[0]).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&segs[0])
        .unwrap()
        .set_len(len - 1)
        .unwrap();
    assert!(matches!(
        FileJournal::open(dir.path()),
        Err(JournalError::Corruption { file, .. }) if file == segs[0]
    ));
}

#[test]
fn bad_headers() {
    let dir = TempDir::new("header");
    write_n(dir.path(), 2);
    let seg = segments(dir.path())[0].clone();
    let good = std::fs::read(&seg).unwrap();
    // Another format version.
    let mut bytes = good.clone();
    bytes[8] = 9;
    std::fs::write(&seg, &bytes).unwrap();
    let e = FileJournal::open(dir.path()).unwrap_err();
    assert!(
        matches!(&e, JournalError::Corruption { offset: 0, .. }),
        "{e}"
    );
    // Not a journal at all.
    bytes = good.clone();
    bytes[0] = b'X';
    std::fs::write(&seg, &bytes).unwrap();
    assert!(matches!(
        FileJournal::open(dir.path()),
        Err(JournalError::Corruption { offset: 0, .. })
    ));
    // A last segment whose header never made it is dropped as torn.
    std::fs::write(&seg, &good).unwrap();
    let next = seg.with_file_name("0000000000000002.journal");
    std::fs::write(&next, &good[..7]).unwrap();
    let j = FileJournal::open(dir.path()).unwrap();
    assert_eq!(j.torn_tail().map(|t| t.dropped), Some(7));
    assert_eq!(j.highest_seq("s").unwrap(), 3);
}

#[test]
fn one_writer_per_directory() {
    let dir = TempDir::new("lock");
    let j = FileJournal::open(dir.path()).unwrap();
    assert!(matches!(
        FileJournal::open(dir.path()),
        Err(JournalError::Locked { .. })
    ));
    drop(j);
    FileJournal::open(dir.path()).expect("the lock goes with the journal");
}

#[test]
fn bad_settings_are_typed_errors() {
    let dir = TempDir::new("settings");
    let e = FileJournal::builder(dir.path())
        .segment_size(0)
        .open()
        .unwrap_err();
    assert!(
        matches!(
            e,
            JournalError::Config {
                setting: "segment_size",
                ..
            }
        ),
        "{e}"
    );
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let e = FileJournal::open(&file).unwrap_err();
    assert!(
        matches!(e, JournalError::Config { setting: "dir", .. }),
        "{e}"
    );
    let e = FileJournal::open(file.join("below-a-file")).unwrap_err();
    assert!(matches!(e, JournalError::Io { .. }), "{e}");
}

fn faulty_journal(dir: &Path, faults: Faulty, policy: FsyncPolicy) -> (FileJournal, Arc<Faulty>) {
    let faults = Arc::new(faults);
    let j = FileJournal::builder(dir)
        .fsync(policy)
        .storage(Arc::new(FaultyStorage(faults.clone())))
        .open()
        .unwrap();
    (j, faults)
}

/// Appends until one fails; returns the acknowledged count and the error.
fn append_until_failure(j: &FileJournal) -> (u64, JournalError) {
    let mut acked = 0;
    loop {
        match j.append("s", acked, vec![ev(acked + 1)]) {
            Ok(n) => acked = n,
            Err(e) => return (acked, e),
        }
    }
}

fn check_acknowledged_survive(dir: &Path, acked: u64) {
    let j = FileJournal::open(dir).unwrap();
    let events = j.read("s", 1, u64::MAX, usize::MAX).unwrap();
    assert!(
        events.len() as u64 >= acked,
        "an acknowledged event was lost"
    );
    for (i, e) in events.iter().enumerate() {
        assert_eq!((e.seq, &e.payload), (i as u64 + 1, &ev(i as u64 + 1)));
    }
}

#[test]
fn a_failed_fsync_fails_the_append_and_every_later_one() {
    let dir = TempDir::new("fsync-fail");
    // Sync 1 is the new segment's header; the 5th is the 4th append's.
    let (j, _) = faulty_journal(
        dir.path(),
        Faulty {
            fail_sync: Some(5),
            ..Faulty::default()
        },
        FsyncPolicy::EveryAppend,
    );
    let (acked, e) = append_until_failure(&j);
    assert_eq!(acked, 3);
    assert!(matches!(&e, JournalError::Io { op: "fsync", .. }), "{e}");
    // Never retried into a false success.
    let later = j.append("s", 3, vec![ev(4)]).unwrap_err();
    assert!(matches!(later, JournalError::Failed { .. }), "{later}");
    assert!(matches!(
        j.append("other", 0, vec![ev(1)]),
        Err(JournalError::Failed { .. })
    ));
    assert_eq!(
        j.highest_seq("s").unwrap(),
        3,
        "nothing unacknowledged is read"
    );
    drop(j);
    check_acknowledged_survive(dir.path(), acked);
}

#[test]
fn a_failed_write_fails_the_append_and_recovery_cuts_its_remains() {
    let dir = TempDir::new("write-fail");
    // Write 1 is the header; the 6th is the 5th append.
    let (j, _) = faulty_journal(
        dir.path(),
        Faulty {
            fail_write: Some(6),
            ..Faulty::default()
        },
        FsyncPolicy::GroupCommit,
    );
    let (acked, e) = append_until_failure(&j);
    assert_eq!(acked, 4);
    assert!(matches!(&e, JournalError::Io { op: "write", .. }), "{e}");
    assert!(matches!(
        j.append("s", 4, vec![ev(5)]),
        Err(JournalError::Failed { .. })
    ));
    drop(j);
    let j = FileJournal::open(dir.path()).unwrap();
    assert!(j.torn_tail().is_some(), "the half-written record is cut");
    drop(j);
    check_acknowledged_survive(dir.path(), acked);
    let j = FileJournal::open(dir.path()).unwrap();
    assert_eq!(j.append("s", 4, vec![ev(5)]).unwrap(), 5);
}

#[test]
fn appends_arriving_during_an_fsync_share_the_next_one() {
    let dir = TempDir::new("group");
    let (j, faults) = faulty_journal(dir.path(), Faulty::default(), FsyncPolicy::GroupCommit);
    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    *faults.gate.lock().unwrap() = Some((entered_tx, release_rx));
    let syncs_before = faults.syncs.load(Ordering::SeqCst);
    let (done_tx, done) = mpsc::channel();
    let tx = done_tx.clone();
    j.append_with("a", 0, vec![ev(1)], Box::new(move |r| tx.send(r).unwrap()));
    entered.recv().unwrap(); // the writer is inside the first append's fsync
    for w in 0..7 {
        let tx = done_tx.clone();
        j.append_with(
            &format!("w{w}"),
            0,
            vec![ev(w)],
            Box::new(move |r| tx.send(r).unwrap()),
        );
    }
    release.send(()).unwrap(); // first sync ends
    entered.recv().unwrap(); // the second sync: the seven queued appends
    release.send(()).unwrap();
    for _ in 0..8 {
        assert_eq!(done.recv().unwrap(), Ok(1));
    }
    assert_eq!(faults.syncs.load(Ordering::SeqCst) - syncs_before, 2);
    *faults.gate.lock().unwrap() = None;
    assert_eq!(j.highest_offset(), 8);
    let stats = j.stats();
    assert_eq!(
        (stats.appends, stats.events, stats.batches, stats.syncs),
        (8, 8, 2, 2)
    );
}

/// Batch 2's fsync runs, and fails, while batch 1 is still being answered
/// (its callback holds the completer): batch 1 is acknowledged, batch 2
/// fails with the fsync error, a later append fails too, and the answers
/// arrive in seq order.
#[test]
fn a_failed_fsync_while_the_last_batch_is_answered_fails_only_what_follows() {
    let dir = TempDir::new("pipeline-fail");
    // Sync 1 is the new segment's header, 2 batch 1's, 3 batch 2's.
    let (j, faults) = faulty_journal(
        dir.path(),
        Faulty {
            fail_sync: Some(3),
            ..Faulty::default()
        },
        FsyncPolicy::GroupCommit,
    );
    let (done_tx, done) = mpsc::channel();
    let (hold, held) = mpsc::channel::<()>();
    let tx = done_tx.clone();
    j.append_with(
        "s",
        0,
        vec![ev(1)],
        Box::new(move |r| {
            tx.send((1, r)).unwrap();
            held.recv().unwrap(); // the completer stays in batch 1
        }),
    );
    assert_eq!(done.recv().unwrap(), (1, Ok(1)));
    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    *faults.gate.lock().unwrap() = Some((entered_tx, release_rx));
    let tx = done_tx.clone();
    j.append_with(
        "s",
        1,
        vec![ev(2)],
        Box::new(move |r| tx.send((2, r)).unwrap()),
    );
    entered.recv().unwrap(); // batch 2 syncs while batch 1 is being answered
    release.send(()).unwrap(); // and its sync fails
    *faults.gate.lock().unwrap() = None;
    let tx = done_tx.clone();
    j.append_with(
        "s",
        2,
        vec![ev(3)],
        Box::new(move |r| tx.send((3, r)).unwrap()),
    );
    hold.send(()).unwrap();
    let (n, second) = done.recv().unwrap();
    assert_eq!(n, 2);
    assert!(
        matches!(&second, Err(JournalError::Io { op: "fsync", .. })),
        "{second:?}"
    );
    let (n, third) = done.recv().unwrap();
    assert_eq!(n, 3);
    assert!(
        matches!(third, Err(JournalError::Failed { .. })),
        "{third:?}"
    );
    assert_eq!(j.highest_seq("s").unwrap(), 1, "nothing unsynced is read");
    assert_eq!(j.stats().appends, 1);
    drop(j);
    check_acknowledged_survive(dir.path(), 1);
}

/// The last handle dropped inside a callback (on the journal's own
/// completer thread) neither deadlocks nor loses what was queued behind it:
/// the writer drains, the completer answers the rest, and the directory is
/// unlocked once both are gone.
#[test]
fn the_last_handle_dropped_in_a_callback_still_drains_the_journal() {
    let dir = TempDir::new("drop-in-callback");
    let j = Arc::new(FileJournal::open(dir.path()).unwrap());
    let (done_tx, done) = mpsc::channel();
    let (go, go_rx) = mpsc::channel::<()>();
    let last = Arc::clone(&j);
    let tx = done_tx.clone();
    j.append_with(
        "a",
        0,
        vec![ev(1)],
        Box::new(move |r| {
            go_rx.recv().unwrap();
            drop(last); // the last handle: closes and joins the writer
            tx.send(("a", r)).unwrap();
        }),
    );
    // Accepted before the drop, answered after the callback above.
    let tx = done_tx.clone();
    j.append_with(
        "b",
        0,
        vec![ev(1)],
        Box::new(move |r| tx.send(("b", r)).unwrap()),
    );
    drop(j);
    go.send(()).unwrap();
    assert_eq!(done.recv().unwrap(), ("a", Ok(1)));
    assert_eq!(done.recv().unwrap(), ("b", Ok(1)));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let j = loop {
        match FileJournal::open(dir.path()) {
            Err(JournalError::Locked { .. }) => {
                assert!(std::time::Instant::now() < deadline, "never unlocked");
                std::thread::yield_now();
            }
            other => break other.unwrap(),
        }
    };
    assert_eq!(j.highest_offset(), 2);
}

#[test]
fn never_policy_does_not_sync_appends() {
    let dir = TempDir::new("never");
    let (j, faults) = faulty_journal(dir.path(), Faulty::default(), FsyncPolicy::Never);
    let before = faults.syncs.load(Ordering::SeqCst);
    for i in 1..=5 {
        j.append("s", i - 1, vec![ev(i)]).unwrap();
    }
    assert_eq!(faults.syncs.load(Ordering::SeqCst), before);
    drop(j);
    check_acknowledged_survive(dir.path(), 5);
}

#[test]
fn appends_in_one_batch_see_each_other_for_conflicts() {
    let dir = TempDir::new("batch-conflict");
    let (j, faults) = faulty_journal(dir.path(), Faulty::default(), FsyncPolicy::GroupCommit);
    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    *faults.gate.lock().unwrap() = Some((entered_tx, release_rx));
    let (done_tx, done) = mpsc::channel();
    let tx = done_tx.clone();
    j.append_with(
        "s",
        0,
        vec![ev(1)],
        Box::new(move |r| tx.send((0, r)).unwrap()),
    );
    entered.recv().unwrap();
    // Queued while the first sync runs: one batch of three.
    for (i, expected) in [(1, 1), (2, 1), (3, 2)] {
        let tx = done_tx.clone();
        j.append_with(
            "s",
            expected,
            vec![ev(i + 1)],
            Box::new(move |r| tx.send((i, r)).unwrap()),
        );
    }
    release.send(()).unwrap();
    entered.recv().unwrap();
    release.send(()).unwrap();
    let mut results: Vec<_> = (0..4).map(|_| done.recv().unwrap()).collect();
    results.sort_by_key(|r| r.0);
    assert_eq!(results[0].1, Ok(1));
    assert_eq!(results[1].1, Ok(2));
    assert!(matches!(
        results[2].1,
        Err(JournalError::Conflict {
            expected: 1,
            actual: 2,
            ..
        })
    ));
    assert_eq!(results[3].1, Ok(3), "the batch's own earlier append counts");
    *faults.gate.lock().unwrap() = None;
    let payloads: Vec<_> = j
        .read("s", 1, u64::MAX, 10)
        .unwrap()
        .into_iter()
        .map(|e| e.payload)
        .collect();
    assert_eq!(payloads, vec![ev(1), ev(2), ev(4)]);
}

#[test]
fn snapshot_store_recovers_a_torn_tail_and_saves_off_thread() {
    use playhouse::persist::{FileSnapshotStore, SnapshotStore};
    let dir = TempDir::new("snapstore");
    let store = FileSnapshotStore::open(dir.path()).unwrap();
    store.save("s", 1, b"one".to_vec()).unwrap();
    let (tx, rx) = mpsc::channel();
    store.save_with(
        "s",
        2,
        b"two".to_vec(),
        Box::new(move |r| tx.send(r).unwrap()),
    );
    assert_eq!(rx.recv().unwrap(), Ok(()));
    assert!(
        FileSnapshotStore::open(dir.path()).is_err(),
        "one writer per directory"
    );
    drop(store);
    let file = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "snapshot"))
        .unwrap();
    let len = std::fs::metadata(&file).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(len - 2)
        .unwrap();
    let store = FileSnapshotStore::open(dir.path()).unwrap();
    let snaps = store.load("s").unwrap();
    assert_eq!(
        snaps.iter().map(|s| s.seq).collect::<Vec<_>>(),
        vec![1],
        "the torn save is cut"
    );
    store.save("s", 3, b"three".to_vec()).unwrap();
    drop(store);
    let store = FileSnapshotStore::open(dir.path()).unwrap();
    let snaps = store.load("s").unwrap();
    assert_eq!(
        (snaps[0].seq, snaps[0].payload.as_slice()),
        (3, &b"three"[..])
    );
}

#[test]
fn a_blocking_append_from_a_listener_is_refused_not_deadlocked() {
    let dir = TempDir::new("listener");
    let j = Arc::new(FileJournal::open(dir.path()).unwrap());
    let (tx, rx) = mpsc::channel();
    let weak = Arc::downgrade(&j);
    j.subscribe(Box::new(move |_| {
        if let Some(j) = weak.upgrade() {
            tx.send(j.append("echo", 0, vec![ev(1)])).unwrap();
        }
        false
    }));
    j.append("s", 0, vec![ev(1)]).unwrap();
    assert_eq!(rx.recv().unwrap(), Err(JournalError::WouldBlockWriter));
    assert_eq!(j.highest_seq("echo").unwrap(), 0);
}

#[test]
fn a_torn_record_carrying_journal_bytes_is_still_a_torn_tail() {
    let dir = TempDir::new("embedded");
    let j = FileJournal::open(dir.path()).unwrap();
    let seg = segments(dir.path())[0].clone();
    let start = std::fs::metadata(&seg).unwrap().len() as usize;
    j.append("s", 0, vec![ev(1)]).unwrap();
    // The first record's exact bytes, carried as the payload of the last.
    let record = std::fs::read(&seg).unwrap()[start..].to_vec();
    let before = std::fs::metadata(&seg).unwrap().len();
    j.append("s", 1, vec![record.clone(), ev(3)]).unwrap();
    drop(j);
    let after = std::fs::metadata(&seg).unwrap().len();
    // Cut the last record just before its end: the copy is intact inside it.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(after - 3)
        .unwrap();
    let j = FileJournal::open(dir.path()).expect("a torn tail, not corruption");
    assert_eq!(j.torn_tail().map(|t| t.offset), Some(before));
    assert_eq!(j.highest_seq("s").unwrap(), 1);
}

#[test]
fn a_panicking_callback_or_listener_is_logged_and_later_appends_are_answered() {
    let dir = TempDir::new("panicking-callback");
    let j = FileJournal::open(dir.path()).unwrap();
    let (heard_tx, heard) = mpsc::channel();
    j.subscribe(Box::new(move |offset| {
        if heard_tx.send(offset).is_ok() && offset < 3 {
            panic!("an append listener panics on purpose");
        }
        true
    }));
    j.append_with(
        "a",
        0,
        vec![ev(1)],
        Box::new(|_| panic!("an append_with callback panics on purpose")),
    );
    let (tx, rx) = mpsc::channel();
    j.append_with("b", 0, vec![ev(1)], Box::new(move |r| tx.send(r).unwrap()));
    assert_eq!(rx.recv().unwrap(), Ok(1), "the callback after a panic runs");
    assert_eq!(j.append("c", 0, vec![ev(1)]).unwrap(), 1);
    // Told of every batch (the listener panicked for each before the last),
    // the last one's offset before its appender was answered.
    let heard: Vec<u64> = heard.try_iter().collect();
    assert!(heard.len() >= 2, "told of each batch: {heard:?}");
    assert_eq!(heard.last(), Some(&3), "{heard:?}");
    assert_eq!(j.highest_seq("a").unwrap(), 1);
    drop(j);
    let j = FileJournal::open(dir.path()).unwrap();
    assert_eq!(j.highest_offset(), 3, "all three appends are on disk");
}
