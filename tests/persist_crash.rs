//! Crash safety with real processes: a child appends with fsync and reports each acknowledged seq; the parent SIGKILLs it at varied moments, reopens, and checks nothing acknowledged was lost or renumbered.

mod persist_common;

use persist_common::TempDir;
use playhouse::persist::{FileJournal, FsyncPolicy, Journal};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const CHILD_ENV: &str = "PLAYHOUSE_CRASH_CHILD_DIR";
const POLICY_ENV: &str = "PLAYHOUSE_CRASH_CHILD_POLICY";
const STREAMS: usize = 2;

/// In the child: append forever from two threads, printing
/// `ack <stream> <seq> <payload>` once each append is acknowledged.
fn child(dir: &str) -> ! {
    let policy = match std::env::var(POLICY_ENV).as_deref() {
        Ok("every") => FsyncPolicy::EveryAppend,
        _ => FsyncPolicy::GroupCommit,
    };
    let journal = std::sync::Arc::new(
        FileJournal::builder(dir)
            .fsync(policy)
            .segment_size(4096)
            .open()
            .expect("child opens the journal"),
    );
    let out = std::sync::Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let threads: Vec<_> = (0..STREAMS)
        .map(|s| {
            let (journal, out) = (journal.clone(), out.clone());
            std::thread::spawn(move || {
                let stream = format!("s{s}");
                let mut seq = journal.highest_seq(&stream).unwrap();
                loop {
                    let payload = format!("{stream}-{}-{}", std::process::id(), seq + 1);
                    // Two events per append in every third append: atomic batches too.
                    let events = if seq % 3 == 0 {
                        vec![
                            payload.clone().into_bytes(),
                            format!("{payload}b").into_bytes(),
                        ]
                    } else {
                        vec![payload.clone().into_bytes()]
                    };
                    let n = events.len() as u64;
                    let hi = journal.append(&stream, seq, events).expect("append");
                    assert_eq!(hi, seq + n);
                    let mut out = out.lock().unwrap();
                    writeln!(out, "ack {stream} {} {payload}", seq + 1).unwrap();
                    if n == 2 {
                        writeln!(out, "ack {stream} {} {payload}b", seq + 2).unwrap();
                    }
                    out.flush().unwrap();
                    seq = hi;
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    std::process::exit(1)
}

#[test]
fn sigkilled_writer_loses_no_acknowledged_event() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        child(&dir);
    }
    let dir = TempDir::new("crash");
    let exe = std::env::current_exe().unwrap();
    // seq -> payload, per stream, of everything any child acknowledged.
    let mut acked: Vec<HashMap<u64, String>> = vec![HashMap::new(); STREAMS];
    // A fixed seed: the same moments every run.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..16u64 {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "sigkilled_writer_loses_no_acknowledged_event",
                "--nocapture",
            ])
            .env(CHILD_ENV, dir.path())
            .env(POLICY_ENV, if round % 3 == 0 { "every" } else { "group" })
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.starts_with("ack ") && tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Kill at a different moment each round: in even rounds after a
        // varying number of acks, in odd ones after a pseudo-random delay
        // (possibly mid-open, mid-recovery or mid-batch). The assertions
        // below hold whenever the kill lands.
        if round % 2 == 0 {
            let kill_after = round * 37 % 200;
            let mut seen = 0;
            while seen < kill_after {
                match rx.recv_timeout(Duration::from_secs(30)) {
                    Ok(line) => {
                        record(&mut acked, &line);
                        seen += 1;
                    }
                    Err(e) => panic!("child stopped acknowledging: {e}"),
                }
            }
        } else {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            std::thread::sleep(Duration::from_micros(seed % 40_000));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();
        for line in rx.try_iter() {
            record(&mut acked, &line);
        }

        let journal = FileJournal::open(dir.path()).expect("reopen after SIGKILL");
        for (s, acked) in acked.iter().enumerate() {
            let stream = format!("s{s}");
            let events = journal.read(&stream, 1, u64::MAX, usize::MAX).unwrap();
            for (i, e) in events.iter().enumerate() {
                assert_eq!(e.seq, i as u64 + 1, "seqs contiguous from 1");
            }
            for (seq, payload) in acked {
                let e = events
                    .get(*seq as usize - 1)
                    .unwrap_or_else(|| panic!("round {round}: acknowledged {stream} {seq} lost"));
                assert_eq!(
                    std::str::from_utf8(&e.payload).unwrap(),
                    payload,
                    "round {round}: {stream} seq {seq} renumbered or reused"
                );
            }
        }
    }
    let total: usize = acked.iter().map(HashMap::len).sum();
    assert!(total > 0, "the children acknowledged something");
}

fn record(acked: &mut [HashMap<u64, String>], line: &str) {
    let mut parts = line.split(' ').skip(1);
    let stream: usize = parts.next().unwrap()[1..].parse().unwrap();
    let seq: u64 = parts.next().unwrap().parse().unwrap();
    let payload = parts.next().unwrap().to_owned();
    let previous = acked[stream].insert(seq, payload.clone());
    assert!(
        previous.is_none_or(|p| p == payload),
        "seq {seq} of s{stream} acknowledged twice with different payloads"
    );
}
