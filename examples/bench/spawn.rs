//! Many short-lived units: spawn, one message, one reply.

use super::*;

struct Echo {
    replies: Sender<u64>,
}

impl Actor for Echo {
    type Msg = u64;
    fn handle(&mut self, _: &mut Context<Self>, n: u64) -> Result<(), ActorError> {
        self.replies.send(n)?;
        Ok(())
    }
}

/// Spawns `actors` actors, tells each one message and waits for every
/// reply. Also measures the growth of peak RSS per actor: the runtime's
/// memory, so the bench's own bookkeeping (the vector of addresses and the
/// queue of replies, a bounded channel with a place for every reply) is
/// allocated, and touched, before the measurement starts.
pub fn playhouse(actors: usize) -> Sample {
    let system = new_system();
    let (tx, rx) = bounded(actors.max(1));
    let mut addrs: Vec<Addr<Echo>> = Vec::with_capacity(actors);
    prefault(&mut addrs);
    let before = reset_peak_rss();
    let counts = PoolCounts::of(&system);
    let start = Instant::now();
    addrs.extend((0..actors).map(|_| {
        let tx = tx.clone();
        system
            .spawn(move || Echo {
                replies: tx.clone(),
            })
            .expect("spawn echo")
    }));
    let spawned = start.elapsed();
    for (i, a) in addrs.iter().enumerate() {
        a.tell(i as u64).expect("echo alive");
    }
    let told = start.elapsed();
    let sum = collect(&rx, actors, "spawn");
    let elapsed = start.elapsed();
    let per = |d: Duration| d.as_nanos() as f64 / actors.max(1) as f64;
    let counts = counts.since(&system);
    let peak = peak_rss();
    assert_eq!(sum, triangle(actors as u64), "spawn: sum of the replies");
    assert_eq!(system.metrics().actors_alive, actors, "spawn: actors alive");
    drop(addrs);
    system.shutdown().expect("shutdown");
    Sample {
        bytes_per_item: growth_per(before, peak, actors),
        phase_ns: Some([per(spawned), per(told - spawned), per(elapsed - told)]),
        ..Sample::timed(actors as u64, elapsed).with_pool(counts)
    }
}

/// Spawns `threads` threads, each waiting for one message on its own
/// channel; sends each one and waits for every reply.
pub fn baseline(threads: usize) -> Sample {
    let (tx, rx) = unbounded();
    let before = reset_peak_rss();
    let start = Instant::now();
    let (inputs, handles): (Vec<Sender<u64>>, Vec<_>) = (0..threads)
        .map(|_| {
            let (input, inbox) = bounded::<u64>(1);
            let replies = tx.clone();
            let handle = thread::spawn(move || {
                let n = inbox.recv().expect("one message");
                replies.send(n).expect("main waits");
            });
            (input, handle)
        })
        .unzip();
    for (i, input) in inputs.iter().enumerate() {
        input.send(i as u64).expect("thread alive");
    }
    let sum = collect(&rx, threads, "spawn baseline");
    let elapsed = start.elapsed();
    let peak = peak_rss();
    for h in handles {
        h.join().expect("spawned thread");
    }
    assert_eq!(
        sum,
        triangle(threads as u64),
        "spawn baseline: sum of the replies"
    );
    Sample {
        bytes_per_item: growth_per(before, peak, threads),
        ..Sample::timed(threads as u64, elapsed)
    }
}

/// The raw floor's stand-in for an actor: 272 bytes with the `Arc`'s
/// counts, as a cell's (the floor allocated 248 against 256 until the
/// cell took in the slot of its first message).
struct FloorUnit {
    state: [std::sync::atomic::AtomicU64; 30],
    replies: Sender<u64>,
}

enum FloorJob {
    Start(std::sync::Arc<FloorUnit>),
    Message(std::sync::Arc<FloorUnit>, u64),
}

/// The hand-offs and allocations of [`playhouse`] with no actor runtime
/// (module docs):
/// what spawning, telling and replying cost on this machine at least.
pub fn floor(actors: usize) -> Sample {
    use std::sync::Arc;
    // ORDERING: Relaxed; written by `main` before any workload starts.
    let threads = match WORKERS.load(Ordering::Relaxed) {
        0 => num_cpus::get().max(1),
        n => n,
    };
    let (jobs, queue) = unbounded::<FloorJob>();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let queue = queue.clone();
            thread::spawn(move || {
                // ORDERING: Relaxed stores; nothing reads them: they stand
                // for the writes a start and a turn make to an actor's cell.
                for job in queue.iter() {
                    match job {
                        FloorJob::Start(u) => u.state[0].store(1, Ordering::Relaxed),
                        FloorJob::Message(u, n) => {
                            u.state[1].store(n, Ordering::Relaxed);
                            u.replies.send(n).expect("main waits");
                        }
                    }
                }
            })
        })
        .collect();
    let (tx, rx) = unbounded();
    let start = Instant::now();
    let units: Vec<Arc<FloorUnit>> = (0..actors)
        .map(|_| {
            let unit = Arc::new(FloorUnit {
                state: Default::default(),
                replies: tx.clone(),
            });
            jobs.send(FloorJob::Start(unit.clone()))
                .expect("workers up");
            unit
        })
        .collect();
    let spawned = start.elapsed();
    for (i, u) in units.iter().enumerate() {
        jobs.send(FloorJob::Message(u.clone(), i as u64))
            .expect("workers up");
    }
    let told = start.elapsed();
    let sum = collect(&rx, actors, "spawn floor");
    let elapsed = start.elapsed();
    assert_eq!(
        sum,
        triangle(actors as u64),
        "spawn floor: sum of the replies"
    );
    drop(jobs);
    for w in workers {
        w.join().expect("floor thread");
    }
    let per = |d: Duration| d.as_nanos() as f64 / actors.max(1) as f64;
    Sample {
        phase_ns: Some([per(spawned), per(told - spawned), per(elapsed - told)]),
        ..Sample::timed(actors as u64, elapsed)
    }
}

/// Touches every page of the vector's spare capacity, so that filling it
/// during the measurement counts no growth. (A bounded channel writes
/// every slot's stamp when it is built, so the reply queue needs none.)
fn prefault<T>(addrs: &mut Vec<T>) {
    // One write per 4 KiB page at most.
    let step = (4096 / std::mem::size_of::<T>().max(1)).max(1);
    for slot in addrs.spare_capacity_mut().iter_mut().step_by(step) {
        *slot = std::mem::MaybeUninit::zeroed();
    }
}

fn collect(rx: &Receiver<u64>, n: usize, what: &str) -> u64 {
    (0..n)
        .map(|got| {
            rx.recv_timeout(LIMIT)
                .unwrap_or_else(|e| panic!("{what}: {got} of {n} replies, then {e}"))
        })
        .sum()
}

fn growth_per(before: Option<u64>, peak: Option<u64>, n: usize) -> Option<f64> {
    Some(peak?.saturating_sub(before?) as f64 / n as f64)
}
