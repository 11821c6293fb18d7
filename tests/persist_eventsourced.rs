//! Event-sourced actors: persist before apply, rejection, commands waiting behind a write, failures restart and replay, one writer per stream, snapshots.

mod persist_common;

use persist_common::{Faulty, FaultyStorage, TempDir};
use playhouse::persist::{
    AppendDone, AppendListener, Codec, CodecError, CommandError, EventSourced, EventSourcedActor,
    EventSourcedAddr, FileJournal, FileSnapshotStore, FsyncPolicy, Journal, JournalError,
    MemoryJournal, MemorySnapshotStore, PersistError, PersistedEvent, Persistence,
};
use playhouse::{
    Actor, ActorError, Addr, ChildSpec, Context, ExitReason, Supervisor, SupervisorExt, System,
    Terminated,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);

enum Cmd {
    Add(String),
    AddTwo(String, String),
    Reject,
    Panic,
}

/// A log of strings; "Panic" makes `decide` panic (a handler failure).
struct Log;

impl EventSourced for Log {
    type Command = Cmd;
    type Event = String;
    type State = Vec<String>;
    type Rejection = String;
    fn decide(&self, _: &Vec<String>, cmd: Cmd) -> Result<Vec<String>, String> {
        match cmd {
            Cmd::Add(s) => Ok(vec![s]),
            Cmd::AddTwo(a, b) => Ok(vec![a, b]),
            Cmd::Reject => Err("no".into()),
            Cmd::Panic => panic!("decide panicked on purpose"),
        }
    }
    fn apply(&self, state: &mut Vec<String>, e: &String) {
        state.push(e.clone());
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

struct Lines;
impl Codec<Vec<String>> for Lines {
    fn encode(&self, v: &Vec<String>) -> Result<Vec<u8>, CodecError> {
        Ok(v.join("\n").into_bytes())
    }
    fn decode(&self, b: &[u8]) -> Result<Vec<String>, CodecError> {
        let s = std::str::from_utf8(b).map_err(CodecError::new)?;
        if s.starts_with("corrupt") {
            return Err(CodecError::msg("corrupt snapshot"));
        }
        Ok(if s.is_empty() {
            vec![]
        } else {
            s.lines().map(str::to_owned).collect()
        })
    }
}

fn state(addr: &Addr<EventSourcedActor<Log>>) -> Vec<String> {
    addr.inspect(|s, _| s.clone(), T).unwrap()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + T;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::yield_now();
    }
}

/// An append held back: stream, expected seq, events, and whom to tell.
type Held = (String, u64, Vec<Vec<u8>>, AppendDone);

/// A journal that holds appends until the test releases them, or fails them,
/// and notes the thread each `append_with` runs on.
struct Gated {
    inner: MemoryJournal,
    held: Mutex<Vec<Held>>,
    fail_next: AtomicBool,
    hold: AtomicBool,
    appends: Mutex<Vec<std::thread::ThreadId>>,
}

impl Gated {
    fn new(hold: bool) -> Arc<Gated> {
        Arc::new(Gated {
            inner: MemoryJournal::new(),
            held: Mutex::new(Vec::new()),
            fail_next: AtomicBool::new(false),
            hold: AtomicBool::new(hold),
            appends: Mutex::new(Vec::new()),
        })
    }
    fn held(&self) -> usize {
        self.held.lock().unwrap().len()
    }
    fn release_one(&self) {
        let (s, e, ev, done) = self.held.lock().unwrap().remove(0);
        done(self.inner.append(&s, e, ev));
    }
}

impl Journal for Gated {
    fn append(&self, s: &str, e: u64, ev: Vec<Vec<u8>>) -> Result<u64, JournalError> {
        self.inner.append(s, e, ev)
    }
    fn append_with(&self, s: &str, e: u64, ev: Vec<Vec<u8>>, done: AppendDone) {
        self.appends
            .lock()
            .unwrap()
            .push(std::thread::current().id());
        if self.fail_next.swap(false, Ordering::SeqCst) {
            return done(Err(JournalError::Failed {
                cause: "injected".into(),
            }));
        }
        if self.hold.load(Ordering::SeqCst) {
            self.held.lock().unwrap().push((s.to_owned(), e, ev, done));
        } else {
            done(self.inner.append(s, e, ev));
        }
    }
    fn read(&self, s: &str, f: u64, t: u64, m: usize) -> Result<Vec<PersistedEvent>, JournalError> {
        self.inner.read(s, f, t, m)
    }
    fn highest_seq(&self, s: &str) -> Result<u64, JournalError> {
        self.inner.highest_seq(s)
    }
    fn delete_to(&self, s: &str, q: u64) -> Result<(), JournalError> {
        self.inner.delete_to(s, q)
    }
    fn read_all(&self, f: u64, m: usize) -> Result<Vec<PersistedEvent>, JournalError> {
        self.inner.read_all(f, m)
    }
    fn highest_offset(&self) -> u64 {
        self.inner.highest_offset()
    }
    fn subscribe(&self, l: AppendListener) {
        self.inner.subscribe(l)
    }
}

/// Forwards the termination notice of the actor it watches.
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

fn watch<A: Actor>(system: &System, addr: &Addr<A>) -> mpsc::Receiver<Terminated> {
    let (tx, rx) = mpsc::channel();
    let addr = addr.clone();
    system
        .spawn(move || Watcher(addr.clone(), tx.clone()))
        .unwrap();
    rx
}

fn supervised_child(sup: &Addr<Supervisor>) -> Addr<EventSourcedActor<Log>> {
    wait_until("the child started", || {
        sup.child::<EventSourcedActor<Log>>("log").is_some()
    });
    sup.child("log").unwrap()
}

#[test]
fn commands_persist_then_apply_and_a_restart_replays() {
    let dir = TempDir::new("es-replay");
    let system = System::new();
    let journal = Arc::new(FileJournal::open(dir.path()).unwrap());
    let p = Persistence::new(journal.clone());
    let sup = Supervisor::builder()
        .child(ChildSpec::new(
            "log",
            p.event_sourced("log-1", || Log, Text).factory().unwrap(),
        ))
        .spawn(&system)
        .unwrap();
    let log = supervised_child(&sup);
    assert_eq!(log.execute(Cmd::Add("a".into()), T), Ok(1));
    assert_eq!(log.execute(Cmd::AddTwo("b".into(), "c".into()), T), Ok(3));
    assert_eq!(
        journal.highest_seq("log-1").unwrap(),
        3,
        "persisted before the reply"
    );
    // A panic in decide fails the actor; its supervisor restarts it and the
    // new instance replays the journal.
    assert!(matches!(
        log.execute(Cmd::Panic, T),
        Err(CommandError::Ask(_))
    ));
    assert_eq!(state(&log), strings(&["a", "b", "c"]));
    assert_eq!(log.execute(Cmd::Add("d".into()), T), Ok(4));
    system.shutdown().unwrap();
    // Actors stopped for good let go of their factories, and so of the
    // journal: the test's handles are the last, even with addresses kept.
    drop((p, journal));
    // A new process (here: a new system and journal) sees the same.
    let system = System::new();
    let p = Persistence::new(Arc::new(FileJournal::open(dir.path()).unwrap()));
    let log_again = p
        .event_sourced("log-1", || Log, Text)
        .spawn(&system)
        .unwrap();
    drop((log, sup));
    let log = log_again;
    assert_eq!(
        log.inspect(|s, seq| (s.clone(), seq), T).unwrap(),
        (strings(&["a", "b", "c", "d"]), 4)
    );
    system.shutdown().unwrap();
}

#[test]
fn a_rejection_is_answered_and_changes_nothing() {
    let system = System::new();
    let journal = Arc::new(MemoryJournal::new());
    let p = Persistence::new(journal.clone());
    let log = p.event_sourced("r", || Log, Text).spawn(&system).unwrap();
    log.execute(Cmd::Add("a".into()), T).unwrap();
    assert_eq!(
        log.execute(Cmd::Reject, T),
        Err(CommandError::Rejected("no".into()))
    );
    assert_eq!(journal.highest_seq("r").unwrap(), 1);
    assert_eq!(log.inspect(|s, seq| (s.len(), seq), T), Ok((1, 1)));
    system.shutdown().unwrap();
}

#[test]
fn commands_wait_in_order_while_a_write_is_in_flight() {
    let system = System::new();
    let journal = Gated::new(true);
    let p = Persistence::new(journal.clone());
    let log = p.event_sourced("w", || Log, Text).spawn(&system).unwrap();
    let mut askers = Vec::new();
    for (i, name) in ["a", "b", "c"].into_iter().enumerate() {
        let log2 = log.clone();
        askers.push(std::thread::spawn(move || {
            log2.execute(Cmd::Add(name.into()), T)
        }));
        if i == 0 {
            wait_until("the first write is in flight", || journal.held() == 1);
        } else {
            wait_until("the command waits in the mailbox", || {
                log.metrics().mailbox_len == i
            });
        }
    }
    // One write at a time: the waiting commands were not decided yet.
    assert_eq!(journal.held(), 1);
    assert_eq!(
        journal.highest_seq("w").unwrap(),
        0,
        "nothing acknowledged yet"
    );
    for n in 1..=3 {
        wait_until("the next write", || journal.held() == 1);
        journal.release_one();
        wait_until("it is applied", || journal.highest_seq("w").unwrap() == n);
    }
    let seqs: Vec<_> = askers
        .into_iter()
        .map(|a| a.join().unwrap().unwrap())
        .collect();
    assert_eq!(seqs, vec![1, 2, 3]);
    assert_eq!(state(&log), strings(&["a", "b", "c"]));
    system.shutdown().unwrap();
}

#[test]
fn a_failed_write_fails_the_command_and_the_actor_replays_under_its_supervisor() {
    let system = System::new();
    let journal = Gated::new(false);
    let p = Persistence::new(journal.clone());
    let sup = Supervisor::builder()
        .child(ChildSpec::new(
            "log",
            p.event_sourced("f", || Log, Text).factory().unwrap(),
        ))
        .spawn(&system)
        .unwrap();
    let log = supervised_child(&sup);
    log.execute(Cmd::Add("a".into()), T).unwrap();
    journal.fail_next.store(true, Ordering::SeqCst);
    match log.execute(Cmd::Add("lost".into()), T) {
        Err(CommandError::Failed(PersistError::Journal(JournalError::Failed { .. }))) => {}
        other => panic!("expected a journal failure, got {other:?}"),
    }
    // The restarted instance has only what the journal holds, and goes on.
    assert_eq!(log.execute(Cmd::Add("b".into()), T), Ok(2));
    assert_eq!(state(&log), strings(&["a", "b"]));
    system.shutdown().unwrap();
}

#[test]
fn a_failed_write_stops_an_unsupervised_actor() {
    let system = System::new();
    let journal = Gated::new(false);
    let p = Persistence::new(journal.clone());
    let log = p.event_sourced("u", || Log, Text).spawn(&system).unwrap();
    let ended = watch(&system, &log);
    journal.fail_next.store(true, Ordering::SeqCst);
    assert!(matches!(
        log.execute(Cmd::Add("x".into()), T),
        Err(CommandError::Failed(_))
    ));
    let t = ended.recv_timeout(T).unwrap();
    assert!(
        matches!(t.reason, ExitReason::Failed(ref why) if why.contains("injected")),
        "{t:?}"
    );
    assert_eq!(journal.highest_seq("u").unwrap(), 0);
    assert!(!p.is_leased("u"), "the stopped actor gave its stream back");
    system.shutdown().unwrap();
}

#[test]
fn one_writer_per_stream_and_bad_settings() {
    let system = System::new();
    let p = Persistence::new(Arc::new(MemoryJournal::new()));
    let first = p.event_sourced("s", || Log, Text).spawn(&system).unwrap();
    first.execute(Cmd::Add("a".into()), T).unwrap();
    assert_eq!(
        p.event_sourced("s", || Log, Text)
            .spawn(&system)
            .unwrap_err(),
        PersistError::StreamInUse { stream: "s".into() }
    );
    // A second actor that slips past the check fails in `started`.
    let factory = p.event_sourced("s", || Log, Text).factory().unwrap();
    let second = system.spawn(factory).unwrap();
    let t = watch(&system, &second).recv_timeout(T).unwrap();
    assert!(
        matches!(t.reason, ExitReason::Failed(ref why) if why.contains("live writer")),
        "{t:?}"
    );
    assert_eq!(state(&first), strings(&["a"]));

    assert_eq!(
        p.event_sourced("", || Log, Text)
            .spawn(&system)
            .unwrap_err(),
        PersistError::EmptyStreamId
    );
    let with_store = p
        .clone()
        .with_snapshots(Arc::new(MemorySnapshotStore::new()));
    let e = with_store
        .event_sourced("z", || Log, Text)
        .snapshots(Lines)
        .snapshot_every(0)
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
    let e = p
        .event_sourced("z", || Log, Text)
        .snapshots(Lines)
        .spawn(&system)
        .unwrap_err();
    assert!(
        matches!(
            e,
            PersistError::Config {
                setting: "snapshots",
                ..
            }
        ),
        "{e}"
    );
    system.shutdown().unwrap();
}

#[test]
fn an_event_that_does_not_decode_fails_the_start_with_a_typed_error() {
    let system = System::new();
    let journal = Arc::new(MemoryJournal::new());
    journal
        .append("bad", 0, vec![b"ok".to_vec(), vec![0xff, 0xfe]])
        .unwrap();
    let p = Persistence::new(journal);
    let log = p.event_sourced("bad", || Log, Text).spawn(&system).unwrap();
    let t = watch(&system, &log).recv_timeout(T).unwrap();
    match t.reason {
        ExitReason::Failed(why) => assert!(
            why.contains("codec error") && why.contains("seq 2"),
            "{why}"
        ),
        other => panic!("expected a failure, got {other:?}"),
    }
    system.shutdown().unwrap();
}

fn snapshots_then_replay(p: Persistence, journal: Arc<dyn Journal>) {
    let system = System::new();
    let spawn = |system: &System| {
        p.event_sourced("snap", || Log, Text)
            .snapshots(Lines)
            .snapshot_every(3)
            .spawn(system)
            .unwrap()
    };
    let log = spawn(&system);
    for i in 1..=7 {
        log.execute(Cmd::Add(format!("e{i}")), T).unwrap();
    }
    let store = p.snapshots().unwrap().clone();
    wait_until("the snapshot at 6 is saved", || {
        store
            .load("snap")
            .unwrap()
            .first()
            .is_some_and(|s| s.seq == 6)
    });
    assert_eq!(log.snapshot(T), Ok(7), "on demand");
    journal.append("other", 0, vec![b"x".to_vec()]).unwrap();
    log.stop();
    wait_until("the stream is released", || !p.is_leased("snap"));
    // Events under the snapshot are no longer needed: delete them.
    journal.delete_to("snap", 7).unwrap();
    let log = spawn(&system);
    let want: Vec<String> = (1..=7).map(|i| format!("e{i}")).collect();
    assert_eq!(
        log.inspect(|s, seq| (s.clone(), seq), T).unwrap(),
        (want, 7)
    );
    assert_eq!(log.execute(Cmd::Add("e8".into()), T), Ok(8));
    system.shutdown().unwrap();
}

#[test]
fn snapshots_in_memory_then_replay() {
    let journal: Arc<dyn Journal> = Arc::new(MemoryJournal::new());
    let p = Persistence::new(journal.clone()).with_snapshots(Arc::new(MemorySnapshotStore::new()));
    snapshots_then_replay(p, journal);
}

#[test]
fn snapshots_on_files_then_replay() {
    let dir = TempDir::new("es-snap");
    let journal: Arc<dyn Journal> =
        Arc::new(FileJournal::open(dir.path().join("journal")).unwrap());
    let store = Arc::new(FileSnapshotStore::open(dir.path().join("snapshots")).unwrap());
    let p = Persistence::new(journal.clone()).with_snapshots(store);
    snapshots_then_replay(p, journal);
}

#[test]
fn a_snapshot_that_does_not_decode_falls_back_to_an_older_one() {
    let system = System::new();
    let journal = Arc::new(MemoryJournal::new());
    let store = Arc::new(MemorySnapshotStore::new());
    let p = Persistence::new(journal.clone()).with_snapshots(store.clone());
    use playhouse::persist::SnapshotStore;
    journal
        .append("fb", 0, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()])
        .unwrap();
    store.save("fb", 1, b"a".to_vec()).unwrap();
    store.save("fb", 3, b"corrupt".to_vec()).unwrap();
    let log = p
        .event_sourced("fb", || Log, Text)
        .snapshots(Lines)
        .spawn(&system)
        .unwrap();
    assert_eq!(state(&log), strings(&["a", "b", "c"]));
    system.shutdown().unwrap();
}

#[test]
fn a_failed_fsync_on_the_file_journal_stops_the_actor_and_nothing_unsynced_is_acknowledged() {
    let dir = TempDir::new("es-fsync");
    let system = System::new();
    // Sync 1 is the new segment's header; sync 4 is the third command's.
    let faults = Arc::new(Faulty {
        fail_sync: Some(4),
        ..Faulty::default()
    });
    let journal = Arc::new(
        FileJournal::builder(dir.path())
            .fsync(FsyncPolicy::EveryAppend)
            .storage(Arc::new(FaultyStorage(faults)))
            .open()
            .unwrap(),
    );
    let p = Persistence::new(journal.clone());
    let log = p.event_sourced("fs", || Log, Text).spawn(&system).unwrap();
    let ended = watch(&system, &log);
    let mut acked = Vec::new();
    for i in 0..5 {
        match log.execute(Cmd::Add(format!("e{i}")), T) {
            Ok(seq) => acked.push((seq, format!("e{i}"))),
            Err(CommandError::Failed(PersistError::Journal(JournalError::Io { op, .. }))) => {
                assert_eq!(op, "fsync");
                break;
            }
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(acked.len(), 2);
    let t = ended.recv_timeout(T).unwrap();
    assert!(matches!(t.reason, ExitReason::Failed(_)), "{t:?}");
    // The journal refuses everything until reopened.
    assert!(matches!(
        journal.append("fs", 2, vec![b"x".to_vec()]),
        Err(JournalError::Failed { .. })
    ));
    system.shutdown().unwrap();
    drop((log, p, journal));
    let journal = FileJournal::open(dir.path()).unwrap();
    let events = journal.read("fs", 1, u64::MAX, usize::MAX).unwrap();
    for (seq, payload) in &acked {
        assert_eq!(
            events[*seq as usize - 1].payload,
            payload.as_bytes(),
            "acknowledged event lost"
        );
    }
}

#[test]
fn a_long_stream_is_replayed_in_batches_before_the_first_command() {
    let system = System::new();
    let journal = Arc::new(MemoryJournal::new());
    for i in 0..2500u64 {
        journal
            .append("long", i, vec![format!("e{i}").into_bytes()])
            .unwrap();
    }
    let p = Persistence::new(journal.clone());
    let log = p
        .event_sourced("long", || Log, Text)
        .spawn(&system)
        .unwrap();
    // Sent at once: it waits until every batch is replayed.
    assert_eq!(log.execute(Cmd::Add("next".into()), T), Ok(2501));
    let (len, last_replayed) = log.inspect(|s, _| (s.len(), s[2499].clone()), T).unwrap();
    assert_eq!((len, last_replayed.as_str()), (2501, "e2499"));
    system.shutdown().unwrap();
}

#[test]
fn the_journal_port_can_run_on_a_dedicated_thread() {
    let system = System::new();
    let journal = Arc::new(MemoryJournal::new());
    let p = Persistence::new(journal.clone())
        .with_snapshots(Arc::new(MemorySnapshotStore::new()))
        .port_options(playhouse::SpawnOptions::new().dedicated_thread());
    let log = p
        .event_sourced("dedicated", || Log, Text)
        .snapshots(Lines)
        .spawn(&system)
        .unwrap();
    assert_eq!(log.execute(Cmd::AddTwo("a".into(), "b".into()), T), Ok(2));
    assert_eq!(log.snapshot(T), Ok(2));
    assert_eq!(journal.highest_seq("dedicated").unwrap(), 2);
    system.shutdown().unwrap();
}

/// Decides one event per command and notes the thread it decides on.
struct Where(Arc<Mutex<Vec<std::thread::ThreadId>>>);

impl EventSourced for Where {
    type Command = ();
    type Event = String;
    type State = u64;
    type Rejection = ();
    fn decide(&self, _: &u64, _: ()) -> Result<Vec<String>, ()> {
        self.0.lock().unwrap().push(std::thread::current().id());
        Ok(vec!["e".into()])
    }
    fn apply(&self, n: &mut u64, _: &String) {
        *n += 1;
    }
}

/// Persistence on `journal`, with its port on `port` options if given (else
/// the actor appends in place).
fn persistence(journal: &Arc<Gated>, port: Option<playhouse::SpawnOptions>) -> Persistence {
    let p = Persistence::new(journal.clone());
    match port {
        Some(options) => p.port_options(options),
        None => p,
    }
}

#[test]
fn appends_reach_the_journal_from_the_actor_unless_the_port_has_options() {
    for dedicated in [false, true] {
        let system = System::new();
        let journal = Gated::new(false);
        let p = persistence(
            &journal,
            dedicated.then(|| playhouse::SpawnOptions::new().dedicated_thread()),
        );
        let decided = Arc::new(Mutex::new(Vec::new()));
        let d = decided.clone();
        let actor = p
            .event_sourced("where", move || Where(d.clone()), Text)
            .spawn(&system)
            .unwrap();
        for seq in 1..=3 {
            assert_eq!(actor.execute((), T), Ok(seq));
        }
        let (decided, appended) = (
            decided.lock().unwrap().clone(),
            journal.appends.lock().unwrap().clone(),
        );
        assert_eq!((decided.len(), appended.len()), (3, 3));
        for (d, a) in decided.iter().zip(&appended) {
            // In place: on the worker that decided. Through a port on a
            // thread of its own: never on a pool worker.
            assert_eq!(d == a, !dedicated, "dedicated port: {dedicated}");
        }
        assert_eq!(journal.highest_seq("where").unwrap(), 3);
        system.shutdown().unwrap();
    }
}

#[test]
fn a_write_unanswered_for_the_write_timeout_fails_the_command_and_the_actor() {
    for port in [false, true] {
        let system = System::new();
        let journal = Gated::new(false);
        let p = persistence(&journal, port.then(playhouse::SpawnOptions::new));
        let log = p
            .event_sourced("slow", || Log, Text)
            .write_timeout(Duration::from_millis(20))
            .spawn(&system)
            .unwrap();
        let ended = watch(&system, &log);
        // A quick write arms the deadline check; the held one after it is
        // caught by that check, re-armed for its own deadline if need be.
        assert_eq!(log.execute(Cmd::Add("a".into()), T), Ok(1));
        journal.hold.store(true, Ordering::SeqCst);
        let outcome = log.execute(Cmd::Add("b".into()), T);
        assert!(
            matches!(
                outcome,
                Err(CommandError::Failed(PersistError::Unanswered(
                    playhouse::AskError::Timeout
                )))
            ),
            "port {port}: {outcome:?}"
        );
        let t = ended.recv_timeout(T).unwrap();
        assert!(matches!(t.reason, ExitReason::Failed(_)), "{t:?}");
        // Its late answer reaches nobody; the journal holds what it stored.
        journal.release_one();
        assert_eq!(journal.highest_seq("slow").unwrap(), 2);
        system.shutdown().unwrap();
    }
}
