//! Group commit under event-sourced actors: each persists one event per command through its journal port to a file journal shared by all, against the raw write + fdatasync baseline.

use super::persist::{PAYLOAD, Scratch};
use super::*;
use playhouse::persist::{
    Codec, CodecError, CommandError, EventSourced, EventSourcedActor, EventSourcedMsg, FileJournal,
    FsyncPolicy, Journal, Persistence,
};
use std::sync::Arc;

/// One event of [`PAYLOAD`] per command; the state counts them.
struct Appender;

impl EventSourced for Appender {
    type Command = ();
    type Event = ();
    type State = u64;
    type Rejection = ();

    fn decide(&self, _: &u64, _: ()) -> Result<Vec<()>, ()> {
        Ok(vec![()])
    }

    fn apply(&self, n: &mut u64, _: &()) {
        *n += 1;
    }
}

/// Every event is the same 100 bytes.
struct Payload;

impl Codec<()> for Payload {
    fn encode(&self, _: &()) -> Result<Vec<u8>, CodecError> {
        Ok(PAYLOAD.to_vec())
    }

    fn decode(&self, _: &[u8]) -> Result<(), CodecError> {
        Ok(())
    }
}

type Writer = Addr<EventSourcedActor<Appender>>;

/// Commands each writer has outstanding: one being persisted, the rest
/// waiting in its mailbox, so it always has its next one at hand.
pub const WINDOW: u64 = 4;

/// Starts the run.
struct Go;

/// Keeps [`WINDOW`] commands outstanding at every writer, asking for the
/// next one as each is answered, and reports on `done` when every command
/// is persisted.
struct Feeder {
    writers: Vec<Writer>,
    /// Per writer: commands asked so far.
    asked: Vec<u64>,
    each: u64,
    answered: u64,
    failed: u64,
    done: Sender<(u64, u64)>,
}

impl Feeder {
    fn ask(&mut self, ctx: &mut Context<Self>, w: usize) -> Result<(), playhouse::AskError> {
        self.asked[w] += 1;
        ctx.ask(
            &self.writers[w],
            |r| EventSourcedMsg::Command((), r),
            LIMIT,
            move |me: &mut Feeder, ctx, outcome| me.answered(ctx, w, outcome),
        )
    }

    fn answered(
        &mut self,
        ctx: &mut Context<Self>,
        w: usize,
        outcome: Result<Result<u64, CommandError<()>>, playhouse::AskError>,
    ) {
        self.answered += 1;
        if !matches!(outcome, Ok(Ok(_))) {
            self.failed += 1;
        }
        if self.asked[w] < self.each && self.ask(ctx, w).is_err() {
            self.failed += 1;
        }
        if self.answered == self.each * self.writers.len() as u64 {
            let _ = self.done.send((self.answered, self.failed));
        }
    }
}

impl Actor for Feeder {
    type Msg = Go;

    fn handle(&mut self, ctx: &mut Context<Self>, _: Go) -> Result<(), ActorError> {
        for _ in 0..WINDOW.min(self.each) {
            for w in 0..self.writers.len() {
                self.ask(ctx, w)?;
            }
        }
        Ok(())
    }
}

/// `n` commands in all from `writers` event-sourced actors, each on a
/// stream of its own, on one file journal with group commit. The sample
/// carries how many appends shared each fsync.
pub fn playhouse(n: u64, writers: u64) -> Sample {
    let dir = Scratch::new("group-actors");
    let journal = Arc::new(
        FileJournal::builder(&dir.0)
            .fsync(FsyncPolicy::GroupCommit)
            .open()
            .expect("open journal"),
    );
    let persistence = Persistence::new(journal.clone());
    let each = (n / writers).max(1);
    let system = new_system();
    let actors: Vec<Writer> = (0..writers)
        .map(|w| {
            persistence
                .event_sourced(format!("bench-{w}"), || Appender, Payload)
                .spawn_options(SpawnOptions::new().mailbox_capacity(WINDOW as usize))
                .spawn(&system)
                .expect("spawn writer")
        })
        .collect();
    let (done_tx, done_rx) = bounded(1);
    let feeder = system
        .spawn(move || Feeder {
            writers: actors.clone(),
            asked: vec![0; actors.len()],
            each,
            answered: 0,
            failed: 0,
            done: done_tx.clone(),
        })
        .expect("spawn feeder");
    // Every writer has replayed its (empty) stream before the clock starts.
    system.await_quiescent(LIMIT).expect("writers started");
    let before = journal.stats();
    let counts = PoolCounts::of(&system);
    let start = Instant::now();
    feeder.tell(Go).expect("feeder alive");
    let (answered, failed) = done_rx
        .recv_timeout(LIMIT)
        .expect("group-commit-actors: every command answered");
    let elapsed = start.elapsed();
    let counts = counts.since(&system);
    let total = each * writers;
    assert_eq!((answered, failed), (total, 0), "(answered, failed)");
    assert_eq!(journal.highest_offset(), total);
    let stats = journal.stats();
    let (appends, syncs) = (stats.appends - before.appends, stats.syncs - before.syncs);
    assert_eq!(appends, total);
    system.shutdown().expect("shutdown");
    Sample {
        appends_per_sync: Some(appends as f64 / syncs.max(1) as f64),
        ..Sample::timed(total, elapsed).with_pool(counts)
    }
}
