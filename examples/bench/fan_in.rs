//! Producer threads outside the pool tell one counting actor.

use super::*;

/// The producer threads.
pub const PRODUCERS: u64 = 4;
/// The counting actor's mailbox, and the baseline channel's bound.
pub const CAPACITY: usize = 1024;

enum CountMsg {
    Add(u64),
    Total(Reply<(u64, u64)>),
}

#[derive(Default)]
struct Counter {
    count: u64,
    sum: u64,
}

impl Actor for Counter {
    type Msg = CountMsg;
    fn handle(&mut self, _: &mut Context<Self>, msg: CountMsg) -> Result<(), ActorError> {
        match msg {
            CountMsg::Add(n) => {
                self.count += 1;
                self.sum += n;
            }
            CountMsg::Total(reply) => {
                let _ = reply.send((self.count, self.sum));
            }
        }
        Ok(())
    }
}

/// `total` messages from [`PRODUCERS`] threads to one actor.
pub fn playhouse(total: u64) -> Sample {
    let system = new_system();
    let counter = system
        .spawn_with(
            SpawnOptions::new().mailbox_capacity(CAPACITY),
            Counter::default,
        )
        .expect("spawn counter");
    let go = Barrier::new(PRODUCERS as usize + 1);
    let counts = PoolCounts::of(&system);
    let start = thread::scope(|s| {
        for range in split(total, PRODUCERS) {
            let (counter, go) = (&counter, &go);
            s.spawn(move || {
                go.wait();
                for n in range {
                    counter.tell(CountMsg::Add(n)).expect("counter alive");
                }
            });
        }
        go.wait();
        Instant::now()
    });
    // The producers have joined: every message is ahead of this request.
    let (count, sum) = counter.ask(CountMsg::Total, LIMIT).expect("counter total");
    let elapsed = start.elapsed();
    let counts = counts.since(&system);
    assert_eq!(
        (count, sum),
        (total, triangle(total)),
        "fan-in: (messages, sum) the actor counted"
    );
    system.shutdown().expect("shutdown");
    Sample::timed(total, elapsed).with_pool(counts)
}

/// `total` messages from [`PRODUCERS`] threads into one `bounded(1024)`
/// channel drained by one thread.
pub fn baseline(total: u64) -> Sample {
    let (tx, rx) = bounded::<u64>(CAPACITY);
    let go = Barrier::new(PRODUCERS as usize + 1);
    let (start, counted) = thread::scope(|s| {
        let consumer = s.spawn(move || {
            let (mut count, mut sum) = (0u64, 0u64);
            for n in rx {
                count += 1;
                sum += n;
            }
            (count, sum)
        });
        for range in split(total, PRODUCERS) {
            let (tx, go) = (tx.clone(), &go);
            s.spawn(move || {
                go.wait();
                for n in range {
                    tx.send(n).expect("consumer alive");
                }
            });
        }
        drop(tx);
        go.wait();
        let start = Instant::now();
        (start, consumer.join().expect("consumer thread"))
    });
    let elapsed = start.elapsed();
    assert_eq!(
        counted,
        (total, triangle(total)),
        "fan-in baseline: (messages, sum) the consumer counted"
    );
    Sample::timed(total, elapsed)
}
