//! Projections: catch-up then live, read-your-writes with a deadline, a durable offset across restarts, decode failures, settings.

mod persist_common;

use persist_common::TempDir;
use playhouse::persist::EventSourcedAddr;
use playhouse::persist::{
    Codec, CodecError, EventSourced, FileJournal, FileSnapshotStore, Journal, MemoryJournal,
    MemorySnapshotStore, PersistError, Persistence, Projection, ProjectionAddr, ReadAfter,
};
use playhouse::{Actor, ActorError, Addr, Context, ExitReason, SupervisorExt, System, Terminated};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);

/// Every (stream, seq, payload) it saw, in order.
#[derive(Default, Debug, Clone, PartialEq)]
struct Seen(Vec<(String, u64, String)>);

impl Projection for Seen {
    type Event = String;
    fn accepts(&self, stream: &str) -> bool {
        !stream.starts_with("ignored")
    }
    fn apply(&mut self, stream: &str, seq: u64, event: String) {
        self.0.push((stream.to_owned(), seq, event));
    }
}

struct Text;
impl Codec<String> for Text {
    fn encode(&self, s: &String) -> Result<Vec<u8>, CodecError> {
        Ok(s.clone().into_bytes())
    }
    fn decode(&self, b: &[u8]) -> Result<String, CodecError> {
        String::from_utf8(b.to_vec()).map_err(CodecError::new)
    }
}

/// Encodes `Seen` as lines of `stream seq payload`.
struct SeenCodec;
impl Codec<Seen> for SeenCodec {
    fn encode(&self, v: &Seen) -> Result<Vec<u8>, CodecError> {
        Ok(v.0
            .iter()
            .map(|(s, q, p)| format!("{s} {q} {p}\n"))
            .collect::<String>()
            .into_bytes())
    }
    fn decode(&self, b: &[u8]) -> Result<Seen, CodecError> {
        let text = std::str::from_utf8(b).map_err(CodecError::new)?;
        let mut out = Vec::new();
        for line in text.lines() {
            let mut it = line.splitn(3, ' ');
            let s = it
                .next()
                .ok_or_else(|| CodecError::msg("stream"))?
                .to_owned();
            let q = it
                .next()
                .ok_or_else(|| CodecError::msg("seq"))?
                .parse()
                .map_err(CodecError::new)?;
            let p = it
                .next()
                .ok_or_else(|| CodecError::msg("payload"))?
                .to_owned();
            out.push((s, q, p));
        }
        Ok(Seen(out))
    }
}

fn append(j: &dyn Journal, stream: &str, payloads: &[&str]) -> u64 {
    let hi = j.highest_seq(stream).unwrap();
    j.append(
        stream,
        hi,
        payloads.iter().map(|p| p.as_bytes().to_vec()).collect(),
    )
    .unwrap()
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + T;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::yield_now();
    }
}

#[test]
fn catches_up_then_follows_live_appends() {
    let system = System::new();
    let journal = Arc::new(MemoryJournal::new());
    // More than one catch-up batch before it starts.
    for i in 0..600 {
        append(&*journal, &format!("s{}", i % 3), &[&format!("e{i}")]);
    }
    append(&*journal, "ignored-1", &["x"]);
    let p = Persistence::new(journal.clone());
    let proj = p
        .projection("seen", Seen::default, Text)
        .spawn(&system)
        .unwrap();
    let n = proj.query(ReadAfter::Now, |s| s.0.len(), T).unwrap();
    assert_eq!(
        n, 600,
        "caught up with everything acknowledged before the query"
    );
    // Live: appended after it caught up.
    let seq = append(&*journal, "s1", &["live"]);
    let last = proj
        .query(
            ReadAfter::Event {
                stream: "s1".into(),
                seq,
            },
            |s| s.0.last().cloned(),
            T,
        )
        .unwrap();
    assert_eq!(last, Some(("s1".into(), seq, "live".into())));
    // The live follow-up happens without a query to pull it.
    append(&*journal, "s2", &["pushed"]);
    let hi = journal.highest_offset();
    wait_until("the projection followed the append", || {
        proj.query(ReadAfter::Offset(0), |s| s.0.len(), T).unwrap() == 602
    });
    let seen = proj.query(ReadAfter::Offset(hi), |s| s.clone(), T).unwrap();
    let all = journal.read_all(1, usize::MAX).unwrap();
    let want: Vec<_> = all
        .iter()
        .filter(|e| !e.stream.starts_with("ignored"))
        .map(|e| {
            (
                e.stream.clone(),
                e.seq,
                String::from_utf8(e.payload.clone()).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen.0, want,
        "global order, ignored streams left out, nothing twice"
    );
    system.shutdown().unwrap();
}

#[test]
fn read_your_writes_waits_for_the_event_or_times_out() {
    struct Reg;
    impl EventSourced for Reg {
        type Command = String;
        type Event = String;
        type State = ();
        type Rejection = ();
        fn decide(&self, _: &(), c: String) -> Result<Vec<String>, ()> {
            Ok(vec![c])
        }
        fn apply(&self, _: &mut (), _: &String) {}
    }
    let system = System::new();
    let journal = Arc::new(MemoryJournal::new());
    let p = Persistence::new(journal.clone());
    let proj = p
        .projection("ryw", Seen::default, Text)
        .spawn(&system)
        .unwrap();
    let writer = p
        .event_sourced("user-1", || Reg, Text)
        .spawn(&system)
        .unwrap();
    for i in 0..20 {
        let seq = writer.execute(format!("v{i}"), T).unwrap();
        let after = ReadAfter::Event {
            stream: "user-1".into(),
            seq,
        };
        let last = proj
            .query(after, |s| s.0.last().map(|e| e.2.clone()), T)
            .unwrap();
        assert_eq!(last, Some(format!("v{i}")), "the query read its own write");
    }
    // A write that never happens: the deadline answers.
    let after = ReadAfter::Event {
        stream: "user-1".into(),
        seq: 99,
    };
    assert_eq!(
        proj.query(after, |s| s.0.len(), Duration::from_millis(200)),
        Err(PersistError::Timeout)
    );
    // Waiting for a write that comes later.
    system.await_quiescent(T).unwrap();
    let handled = proj.metrics().messages_handled;
    let waiting = {
        let proj = proj.clone();
        std::thread::spawn(move || {
            proj.query(
                ReadAfter::Event {
                    stream: "late".into(),
                    seq: 1,
                },
                |s| s.0.len(),
                T,
            )
        })
    };
    wait_until("the query waits", || {
        proj.metrics().messages_handled > handled
    });
    assert!(!waiting.is_finished(), "answered before the write");
    append(&*journal, "late", &["here"]);
    assert_eq!(waiting.join().unwrap(), Ok(21));
    system.shutdown().unwrap();
}

fn durable_offset(p: Persistence, journal: Arc<dyn Journal>) {
    let system = System::new();
    let spawn = || {
        p.projection("durable", Seen::default, Text)
            .snapshot_every(5, SeenCodec)
            .spawn(&system)
            .unwrap()
    };
    for i in 1..=12 {
        append(&*journal, "d", &[&format!("e{i}")]);
    }
    let proj = spawn();
    assert_eq!(proj.query(ReadAfter::Now, |s| s.0.len(), T), Ok(12));
    let store = p.snapshots().unwrap().clone();
    wait_until("the snapshot is saved", || {
        store
            .load("projection:durable")
            .unwrap()
            .first()
            .is_some_and(|s| s.seq == 12)
    });
    proj.stop();
    wait_until("it stopped", || !proj.is_alive());
    // Only the snapshot still has these events: a restart from scratch would lose them.
    journal.delete_to("d", 12).unwrap();
    for i in 13..=15 {
        append(&*journal, "d", &[&format!("e{i}")]);
    }
    let proj = spawn();
    let seen = proj.query(ReadAfter::Now, |s| s.clone(), T).unwrap();
    let want: Vec<_> = (1..=15)
        .map(|i| ("d".to_string(), i, format!("e{i}")))
        .collect();
    assert_eq!(seen.0, want, "neither re-applied nor skipped");
    system.shutdown().unwrap();
}

#[test]
fn offset_survives_a_restart_in_memory() {
    let journal: Arc<dyn Journal> = Arc::new(MemoryJournal::new());
    let p = Persistence::new(journal.clone()).with_snapshots(Arc::new(MemorySnapshotStore::new()));
    durable_offset(p, journal);
}

#[test]
fn offset_survives_a_restart_on_files() {
    let dir = TempDir::new("proj");
    let journal: Arc<dyn Journal> = Arc::new(FileJournal::open(dir.path().join("j")).unwrap());
    let store = Arc::new(FileSnapshotStore::open(dir.path().join("s")).unwrap());
    durable_offset(
        Persistence::new(journal.clone()).with_snapshots(store),
        journal,
    );
    // Nothing the stopped projection left behind keeps the journal (and its
    // lock) alive.
    FileJournal::open(dir.path().join("j")).expect("the journal was released");
}

struct Watcher<A: Actor>(Addr<A>, mpsc::Sender<Terminated>);
impl<A: Actor> Actor for Watcher<A> {
    type Msg = Terminated;
    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        let target = self.0.clone();
        ctx.watch(&target);
        Ok(())
    }
    fn handle(&mut self, _: &mut Context<Self>, t: Terminated) -> Result<(), ActorError> {
        let _ = self.1.send(t);
        Ok(())
    }
}

#[test]
fn an_event_that_does_not_decode_fails_the_projection() {
    let system = System::new();
    let journal = Arc::new(MemoryJournal::new());
    journal
        .append("s", 0, vec![b"ok".to_vec(), vec![0xff]])
        .unwrap();
    let p = Persistence::new(journal.clone());
    let proj = p
        .projection("bad", Seen::default, Text)
        .spawn(&system)
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let target = proj.clone();
    system
        .spawn(move || Watcher(target.clone(), tx.clone()))
        .unwrap();
    let t = rx.recv_timeout(T).unwrap();
    assert!(
        matches!(t.reason, ExitReason::Failed(ref why) if why.contains("codec error")),
        "{t:?}"
    );
    system.shutdown().unwrap();
}

#[test]
fn bad_settings_are_typed_errors() {
    let system = System::new();
    let p = Persistence::new(Arc::new(MemoryJournal::new()));
    let e = p
        .projection("", Seen::default, Text)
        .spawn(&system)
        .unwrap_err();
    assert!(
        matches!(
            e,
            PersistError::Config {
                setting: "name",
                ..
            }
        ),
        "{e}"
    );
    let e = p
        .projection("x", Seen::default, Text)
        .snapshot_every(5, SeenCodec)
        .spawn(&system)
        .unwrap_err();
    assert!(
        matches!(
            e,
            PersistError::Config {
                setting: "snapshot_every",
                ..
            }
        ),
        "{e}"
    );
    let p = p.with_snapshots(Arc::new(MemorySnapshotStore::new()));
    let e = p
        .projection("x", Seen::default, Text)
        .snapshot_every(0, SeenCodec)
        .spawn(&system)
        .unwrap_err();
    assert!(
        matches!(
            e,
            PersistError::Config {
                setting: "snapshot_every",
                ..
            }
        ),
        "{e}"
    );
    system.shutdown().unwrap();
}

/// Per stream, the last seq seen, and whether any arrived out of order.
#[derive(Default)]
struct Order {
    last: std::collections::HashMap<String, u64>,
    total: u64,
    out_of_order: u64,
}

impl Projection for Order {
    type Event = String;
    fn apply(&mut self, stream: &str, seq: u64, _: String) {
        let last = self.last.entry(stream.to_owned()).or_default();
        if seq != *last + 1 {
            self.out_of_order += 1;
        }
        *last = seq;
        self.total += 1;
    }
}

#[test]
fn many_writers_and_a_live_projection_agree_on_every_event_once() {
    struct Append;
    impl EventSourced for Append {
        type Command = String;
        type Event = String;
        type State = u64;
        type Rejection = ();
        fn decide(&self, _: &u64, c: String) -> Result<Vec<String>, ()> {
            Ok(vec![c])
        }
        fn apply(&self, n: &mut u64, _: &String) {
            *n += 1;
        }
    }
    const WRITERS: usize = 6;
    const EACH: u64 = 40;
    let dir = TempDir::new("proj-stress");
    let system = System::new();
    let journal = Arc::new(FileJournal::open(dir.path()).unwrap());
    let p = Persistence::new(journal.clone());
    let proj = p
        .projection("order", Order::default, Text)
        .spawn(&system)
        .unwrap();
    let threads: Vec<_> = (0..WRITERS)
        .map(|w| {
            let actor = p
                .event_sourced(format!("w{w}"), || Append, Text)
                .spawn(&system)
                .unwrap();
            let proj = proj.clone();
            std::thread::spawn(move || {
                for i in 0..EACH {
                    let seq = actor.execute(format!("{w}-{i}"), T).unwrap();
                    assert_eq!(seq, i + 1);
                    if i % 10 == 9 {
                        let after = ReadAfter::Event {
                            stream: format!("w{w}"),
                            seq,
                        };
                        let seen =
                            proj.query(after, move |o| o.last.get(&format!("w{w}")).copied(), T);
                        assert!(seen.unwrap().unwrap() >= seq, "read your writes");
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let (total, out_of_order) = proj
        .query(ReadAfter::Now, |o| (o.total, o.out_of_order), T)
        .unwrap();
    assert_eq!((total, out_of_order), (WRITERS as u64 * EACH, 0));
    system.shutdown().unwrap();
}

/// `Seen`, except that it panics once on the event "boom".
struct Fragile(Seen, Arc<std::sync::atomic::AtomicBool>);

impl Projection for Fragile {
    type Event = String;
    fn apply(&mut self, stream: &str, seq: u64, event: String) {
        if event == "boom" && self.1.swap(false, std::sync::atomic::Ordering::SeqCst) {
            panic!("projection failed on purpose");
        }
        self.0.apply(stream, seq, event);
    }
}

#[test]
fn a_supervised_projection_restarts_and_rebuilds_without_duplicates() {
    use playhouse::{ChildSpec, Supervisor};
    let system = System::new();
    let journal = Arc::new(MemoryJournal::new());
    let p = Persistence::new(journal.clone());
    let armed = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let a = armed.clone();
    let factory = p
        .projection("fragile", move || Fragile(Seen::default(), a.clone()), Text)
        .factory()
        .unwrap();
    let sup = Supervisor::builder()
        .child(ChildSpec::new("fragile", factory))
        .name("projections")
        .spawn(&system)
        .unwrap();
    wait_until("the projection started", || {
        sup.child::<playhouse::persist::ProjectionActor<Fragile>>("fragile")
            .is_some()
    });
    let proj = sup
        .child::<playhouse::persist::ProjectionActor<Fragile>>("fragile")
        .unwrap();
    append(&*journal, "s", &["a", "boom", "c"]);
    wait_until("it failed once", || {
        !armed.load(std::sync::atomic::Ordering::SeqCst)
    });
    let seen = proj.query(ReadAfter::Now, |f| f.0.clone(), T).unwrap();
    let want: Vec<_> = ["a", "boom", "c"]
        .iter()
        .enumerate()
        .map(|(i, e)| ("s".to_string(), i as u64 + 1, e.to_string()))
        .collect();
    assert_eq!(seen.0, want, "rebuilt after the restart, each event once");
    append(&*journal, "s", &["d"]);
    assert_eq!(
        proj.query(ReadAfter::Now, |f| f.0.0.len(), T),
        Ok(4),
        "follows live appends again"
    );
    system.shutdown().unwrap();
}
