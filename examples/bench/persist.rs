//! Persist workloads: appends per second to a file journal with an fsync per append, against a raw thread doing write + fdatasync of the same bytes; group commit under concurrent writers against the same baseline; replay and recovery against a raw sequential read.

use super::Sample;
use playhouse::persist::{FileJournal, FsyncPolicy, Journal};
use std::io::{Read, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The payload of every event.
pub const PAYLOAD: [u8; 100] = [7; 100];

/// A fresh directory under the temp dir, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let p = std::env::temp_dir().join(format!(
            "playhouse-bench-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&p).expect("scratch dir");
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `n` appends of one event from one thread, each synced before the next.
pub fn playhouse(n: u64) -> (u64, Duration) {
    let dir = Scratch::new("journal");
    let journal = FileJournal::builder(&dir.0)
        .fsync(FsyncPolicy::EveryAppend)
        .open()
        .expect("open journal");
    let start = Instant::now();
    for seq in 0..n {
        journal
            .append("bench", seq, vec![PAYLOAD.to_vec()])
            .expect("append");
    }
    let elapsed = start.elapsed();
    assert_eq!(journal.highest_seq("bench").expect("highest"), n);
    (n, elapsed)
}

/// The same bytes (a record is about 140 bytes framed) written and
/// `fdatasync`ed `n` times by one thread on a plain file.
pub fn baseline(n: u64) -> (u64, Duration) {
    let dir = Scratch::new("raw");
    let mut file = std::fs::File::create(dir.0.join("raw")).expect("create");
    let record = [7u8; 140];
    let start = Instant::now();
    for _ in 0..n {
        file.write_all(&record).expect("write");
        file.sync_data().expect("fdatasync");
    }
    let elapsed = start.elapsed();
    assert_eq!(file.metadata().expect("metadata").len(), n * 140);
    (n, elapsed)
}

/// `n` appends in all from `writers` threads on streams of their own, with
/// group commit: appends that arrive during an fsync share the next one.
/// The sample carries how many appends shared each fsync.
pub fn group_commit(n: u64, writers: u64) -> Sample {
    let dir = Scratch::new("group");
    let journal = Arc::new(
        FileJournal::builder(&dir.0)
            .fsync(FsyncPolicy::GroupCommit)
            .open()
            .expect("open journal"),
    );
    let each = n / writers;
    let start = Instant::now();
    let threads: Vec<_> = (0..writers)
        .map(|w| {
            let journal = Arc::clone(&journal);
            std::thread::spawn(move || {
                let stream = format!("bench-{w}");
                for seq in 0..each {
                    journal
                        .append(&stream, seq, vec![PAYLOAD.to_vec()])
                        .expect("append");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("writer");
    }
    let elapsed = start.elapsed();
    assert_eq!(journal.highest_offset(), each * writers);
    let stats = journal.stats();
    Sample {
        appends_per_sync: Some(stats.appends as f64 / stats.syncs.max(1) as f64),
        ..Sample::timed(each * writers, elapsed)
    }
}

/// Writes `n` events of one stream (not timed) and returns the journal's
/// directory with the journal closed.
fn filled(n: u64) -> Scratch {
    let dir = Scratch::new("replay");
    let journal = FileJournal::builder(&dir.0)
        .fsync(FsyncPolicy::Never)
        .open()
        .expect("open journal");
    let mut seq = 0;
    while seq < n {
        let batch = (n - seq).min(256);
        let events = (0..batch).map(|_| PAYLOAD.to_vec()).collect();
        seq = journal.append("bench", seq, events).expect("append");
    }
    dir
}

/// Replays `n` events as an event-sourced actor does on start and on
/// every restart: reads its stream back from a journal that is open, in
/// batches of 1024, each event lent from the journal's read buffer (as the
/// actor decodes it) rather than copied out. The journal was written and
/// reopened first, untimed, so its index comes from recovery and the segment
/// is in the page cache, as for the baseline.
pub fn replay(n: u64) -> (u64, Duration) {
    let dir = filled(n);
    let journal = FileJournal::open(&dir.0).expect("reopen");
    let start = Instant::now();
    let mut read = 0;
    let mut bytes = 0;
    loop {
        let seen = journal
            .read_with("bench", read + 1, u64::MAX, 1024, &mut |e| {
                bytes += e.payload.len();
                read = e.seq;
                ControlFlow::Continue(())
            })
            .expect("read");
        if seen == 0 {
            break;
        }
    }
    let elapsed = start.elapsed();
    assert_eq!(read, n);
    assert_eq!(bytes, n as usize * PAYLOAD.len());
    (read, elapsed)
}

/// Opens a journal of `n` events: recovery reads every segment, checks
/// every record's checksum and sequence, and indexes it. Done once per
/// process, not per actor.
pub fn recovery(n: u64) -> (u64, Duration) {
    let dir = filled(n);
    let start = Instant::now();
    let journal = FileJournal::open(&dir.0).expect("reopen");
    let elapsed = start.elapsed();
    assert_eq!(journal.highest_seq("bench").expect("highest"), n);
    (n, elapsed)
}

/// A raw sequential read of the same segment files: `read` calls into one
/// reused buffer of 256 KiB, the size of the journal's own reads.
pub fn replay_baseline(n: u64) -> (u64, Duration) {
    let dir = filled(n);
    let mut files: Vec<_> = std::fs::read_dir(&dir.0)
        .expect("list")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "journal"))
        .collect();
    files.sort();
    let mut buf = vec![0u8; 256 << 10];
    let start = Instant::now();
    let mut bytes = 0u64;
    for f in &files {
        let mut file = std::fs::File::open(f).expect("open");
        loop {
            let got = file.read(&mut buf).expect("read");
            if got == 0 {
                break;
            }
            bytes += got as u64;
        }
    }
    let elapsed = start.elapsed();
    assert!(bytes >= n * PAYLOAD.len() as u64);
    (n, elapsed)
}
