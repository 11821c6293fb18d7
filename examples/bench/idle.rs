//! Nothing to do: what does waiting cost?

use super::*;

struct Sleeper;

impl Actor for Sleeper {
    type Msg = Reply<()>;
    fn handle(&mut self, _: &mut Context<Self>, reply: Reply<()>) -> Result<(), ActorError> {
        let _ = reply.send(());
        Ok(())
    }
}

/// `actors` idle actors for `window`; then each is asked once, to show it
/// was alive all along.
pub fn playhouse(actors: usize, window: Duration) -> Sample {
    let system = new_system();
    let addrs: Vec<Addr<Sleeper>> = (0..actors)
        .map(|_| system.spawn(|| Sleeper).expect("spawn sleeper"))
        .collect();
    system.await_quiescent(LIMIT).expect("every actor started");
    let counts = PoolCounts::of(&system);
    let (elapsed, cpu) = sit_idle(window);
    let counts = counts.since(&system);
    let answered = addrs.iter().filter(|a| a.ask(|r| r, LIMIT).is_ok()).count();
    assert_eq!(answered, actors, "idle: actors that answered afterwards");
    system.shutdown().expect("shutdown");
    Sample {
        cpu_fraction: cpu,
        ..Sample::timed(actors as u64, elapsed).with_pool(counts)
    }
}

/// `threads` threads blocked on `recv` for `window`; then each gets one
/// message and replies.
pub fn baseline(threads: usize, window: Duration) -> Sample {
    let (reply_tx, reply_rx) = unbounded::<()>();
    let (ready_tx, ready_rx) = unbounded::<()>();
    let (inputs, handles): (Vec<Sender<()>>, Vec<_>) = (0..threads)
        .map(|_| {
            let (input, inbox) = bounded::<()>(1);
            let (reply, ready) = (reply_tx.clone(), ready_tx.clone());
            let handle = thread::spawn(move || {
                ready.send(()).expect("main waits");
                inbox.recv().expect("one message");
                reply.send(()).expect("main waits");
            });
            (input, handle)
        })
        .unzip();
    for _ in 0..threads {
        ready_rx.recv_timeout(LIMIT).expect("thread started");
    }
    let (elapsed, cpu) = sit_idle(window);
    for input in &inputs {
        input.send(()).expect("thread alive");
    }
    let answered = (0..threads)
        .filter(|_| reply_rx.recv_timeout(LIMIT).is_ok())
        .count();
    for h in handles {
        h.join().expect("idle thread");
    }
    assert_eq!(answered, threads, "idle baseline: threads that answered");
    Sample {
        cpu_fraction: cpu,
        ..Sample::timed(threads as u64, elapsed)
    }
}

/// Sleeps for `window` (the point of this workload, not synchronisation)
/// and returns the wall time and the process's CPU seconds per wall second
/// over it.
fn sit_idle(window: Duration) -> (Duration, Option<f64>) {
    let cpu_before = cpu_seconds();
    let start = Instant::now();
    thread::sleep(window);
    let cpu_after = cpu_seconds();
    let elapsed = start.elapsed();
    let fraction = cpu_before
        .zip(cpu_after)
        .map(|(before, after)| (after - before) / elapsed.as_secs_f64());
    (elapsed, fraction)
}
