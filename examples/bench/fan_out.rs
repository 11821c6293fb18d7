//! One publisher actor, many subscriber actors.

use super::*;

/// The subscriber actors (and baseline consumer threads).
pub const SUBSCRIBERS: usize = 8;
/// The subscribers' mailbox, and the baseline channels' bound.
pub const CAPACITY: usize = 1024;
/// Messages per subscriber the publisher sends in one turn before it
/// sends itself the next `Publish`.
const BATCH: u64 = 64;

struct Publish;

struct Publisher {
    subscribers: Vec<Addr<Tally>>,
    next: u64,
    end: u64,
}

impl Actor for Publisher {
    type Msg = Publish;
    fn handle(&mut self, ctx: &mut Context<Self>, _: Publish) -> Result<(), ActorError> {
        let stop = self.end.min(self.next + BATCH);
        for n in self.next..stop {
            for s in &self.subscribers {
                ctx.send(s, n)?;
            }
        }
        self.next = stop;
        if self.next < self.end {
            // A send to itself never parks, so a suspended publisher
            // still finds this when it resumes.
            ctx.send(&ctx.addr(), Publish)?;
        }
        Ok(())
    }
}

/// Counts and sums `u64`s; once `expect` have come, reports both on `done`.
/// The receiving end of fan-out and of fan-in-actors.
pub struct Tally {
    expect: u64,
    count: u64,
    sum: u64,
    done: Sender<(u64, u64)>,
}

impl Tally {
    pub fn new(expect: u64, done: Sender<(u64, u64)>) -> Self {
        Tally {
            expect,
            count: 0,
            sum: 0,
            done,
        }
    }
}

impl Actor for Tally {
    type Msg = u64;
    fn handle(&mut self, _: &mut Context<Self>, n: u64) -> Result<(), ActorError> {
        self.count += 1;
        self.sum += n;
        if self.count == self.expect {
            self.done.send((self.count, self.sum))?;
        }
        Ok(())
    }
}

/// A publisher actor sends `n` messages to each of [`SUBSCRIBERS`] actors.
pub fn playhouse(n: u64) -> Sample {
    let system = new_system();
    let (done_tx, done_rx) = unbounded();
    let subscribers: Vec<Addr<Tally>> = (0..SUBSCRIBERS)
        .map(|_| {
            let done = done_tx.clone();
            system
                .spawn_with(SpawnOptions::new().mailbox_capacity(CAPACITY), move || {
                    Tally::new(n, done.clone())
                })
                .expect("spawn subscriber")
        })
        .collect();
    let subs = subscribers.clone();
    let publisher = system
        .spawn(move || Publisher {
            subscribers: subs.clone(),
            next: 0,
            end: n,
        })
        .expect("spawn publisher");
    let counts = PoolCounts::of(&system);
    let start = Instant::now();
    publisher.tell(Publish).expect("publisher alive");
    let results = collect(&done_rx, "fan-out");
    let elapsed = start.elapsed();
    let counts = counts.since(&system);
    check("fan-out", n, &results);
    system.shutdown().expect("shutdown");
    Sample::timed(n * SUBSCRIBERS as u64, elapsed).with_pool(counts)
}

/// One thread sends `n` messages into each of [`SUBSCRIBERS`]
/// `bounded(1024)` channels, each drained by its own thread.
pub fn baseline(n: u64) -> Sample {
    let (done_tx, done_rx) = unbounded();
    let go = Barrier::new(2);
    let elapsed = thread::scope(|s| {
        let inputs: Vec<Sender<u64>> = (0..SUBSCRIBERS)
            .map(|_| {
                let (tx, rx) = bounded::<u64>(CAPACITY);
                let done = done_tx.clone();
                s.spawn(move || {
                    let (mut count, mut sum) = (0u64, 0u64);
                    for m in rx {
                        count += 1;
                        sum += m;
                    }
                    done.send((count, sum)).expect("main waits");
                });
                tx
            })
            .collect();
        let go = &go;
        s.spawn(move || {
            go.wait();
            for m in 0..n {
                for tx in &inputs {
                    tx.send(m).expect("subscriber alive");
                }
            }
        });
        go.wait();
        let start = Instant::now();
        let results = collect(&done_rx, "fan-out baseline");
        let elapsed = start.elapsed();
        check("fan-out baseline", n, &results);
        elapsed
    });
    Sample::timed(n * SUBSCRIBERS as u64, elapsed)
}

fn collect(rx: &Receiver<(u64, u64)>, what: &str) -> Vec<(u64, u64)> {
    (0..SUBSCRIBERS)
        .map(|got| {
            rx.recv_timeout(LIMIT).unwrap_or_else(|e| {
                panic!("{what}: {got} of {SUBSCRIBERS} subscribers done, then {e}")
            })
        })
        .collect()
}

fn check(what: &str, n: u64, results: &[(u64, u64)]) {
    for &r in results {
        assert_eq!(
            r,
            (n, triangle(n)),
            "{what}: (messages, sum) of a subscriber"
        );
    }
}
