//! Producer actors send to one consumer actor with `Context::send`, in turns of a bounded batch.

use super::fan_out::Tally;
use super::*;

/// The producer actors (and the baseline's producer threads).
pub const PRODUCERS: u64 = fan_in::PRODUCERS;
/// The consumer's mailbox, and the baseline channel's bound.
pub const CAPACITY: usize = fan_in::CAPACITY;
/// Messages a producer sends in one turn before it sends itself the next
/// `Produce`, so the other actors of its worker get their turns.
pub const BATCH: u64 = 64;

struct Produce;

struct Producer {
    consumer: Addr<Tally>,
    next: u64,
    end: u64,
}

impl Actor for Producer {
    type Msg = Produce;
    fn handle(&mut self, ctx: &mut Context<Self>, _: Produce) -> Result<(), ActorError> {
        let stop = self.end.min(self.next + BATCH);
        for n in self.next..stop {
            ctx.send(&self.consumer, n)?;
        }
        self.next = stop;
        if self.next < self.end {
            // A send to itself never parks, so a producer suspended by the
            // consumer's full mailbox still finds this when it resumes.
            ctx.send(&ctx.addr(), Produce)?;
        }
        Ok(())
    }
}

/// `total` messages from [`PRODUCERS`] actors to one consumer actor.
pub fn playhouse(total: u64) -> Sample {
    let system = new_system();
    let (done_tx, done_rx) = bounded(1);
    let consumer = system
        .spawn_with(SpawnOptions::new().mailbox_capacity(CAPACITY), move || {
            Tally::new(total, done_tx.clone())
        })
        .expect("spawn consumer");
    let producers: Vec<Addr<Producer>> = split(total, PRODUCERS)
        .map(|range| {
            let consumer = consumer.clone();
            system
                .spawn(move || Producer {
                    consumer: consumer.clone(),
                    next: range.start,
                    end: range.end,
                })
                .expect("spawn producer")
        })
        .collect();
    // Every producer has started before the clock does.
    system.await_quiescent(LIMIT).expect("producers started");
    let counts = PoolCounts::of(&system);
    let start = Instant::now();
    for p in &producers {
        p.tell(Produce).expect("producer alive");
    }
    let counted = done_rx
        .recv_timeout(LIMIT)
        .expect("fan-in-actors: the consumer counted every message");
    let elapsed = start.elapsed();
    let counts = counts.since(&system);
    assert_eq!(
        counted,
        (total, triangle(total)),
        "fan-in-actors: (messages, sum) the consumer counted"
    );
    system.shutdown().expect("shutdown");
    Sample::timed(total, elapsed).with_pool(counts)
}

/// `total` messages from [`PRODUCERS`] threads into one `bounded(1024)`
/// channel drained by one thread (the fan-in baseline).
pub fn baseline(total: u64) -> Sample {
    fan_in::baseline(total)
}
