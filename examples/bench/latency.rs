//! Request latency, one request at a time: a plain thread asks an actor, or an actor asks another with `Context::ask`, with the pool idle or with pairs of actors ping-ponging beside it.

use super::*;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// Requests made before the recorded ones, so the first wake-ups and
/// allocations are not counted.
pub const WARM_UP: u64 = 2_000;
/// Pairs of actors (or threads) ping-ponging in the background of the
/// loaded shapes.
pub const PAIRS: usize = 4;
/// How long one request may take before the workload fails.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Who asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asker {
    /// A plain thread, with `Addr::ask` (blocking).
    Thread,
    /// An actor, with `Context::ask` (the answer is a continuation).
    Actor,
}

/// The percentiles of one repetition's recorded requests, and what the
/// background did meanwhile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub p999_ns: u64,
    pub max_ns: u64,
    /// Round trips per second of the background pairs while the requests
    /// ran (loaded shapes only).
    pub background_rate: Option<f64>,
}

impl Latency {
    /// The percentiles of `ns` (one entry per request, not empty).
    pub fn of(mut ns: Vec<u64>, background_rate: Option<f64>) -> Self {
        assert!(!ns.is_empty(), "latency: no request recorded");
        ns.sort_unstable();
        let at = |q: f64| ns[((ns.len() as f64 * q) as usize).min(ns.len() - 1)];
        Latency {
            p50_ns: at(0.5),
            p99_ns: at(0.99),
            p999_ns: at(0.999),
            max_ns: *ns.last().expect("not empty"),
            background_rate,
        }
    }
}

/// An empty buffer for `requests` latencies, its memory written once: a
/// fresh allocation's pages are mapped on first write, and without this every
/// 512th request would pay a page fault inside its measured time.
fn recording(requests: u64) -> Vec<u64> {
    let mut recorded = vec![u64::MAX; requests as usize];
    // Keeps the writes: nothing reads them before they are overwritten.
    std::hint::black_box(&mut recorded);
    recorded.clear();
    recorded
}

/// The sample of `n` recorded requests that took `elapsed` in all.
fn sample(ns: Vec<u64>, elapsed: Duration, background_rate: Option<f64>) -> Sample {
    let n = ns.len() as u64;
    Sample {
        latency: Some(Latency::of(ns, background_rate)),
        ..Sample::timed(n, elapsed)
    }
}

/// Answers every request with its own number.
struct Echo;

impl Actor for Echo {
    type Msg = (u64, Reply<u64>);
    fn handle(&mut self, _: &mut Context<Self>, (n, reply): Self::Msg) -> Result<(), ActorError> {
        let _ = reply.send(n);
        Ok(())
    }
}

enum DriverMsg {
    Start {
        requests: u64,
        done: Sender<Vec<u64>>,
    },
}

/// Asks the echo actor `requests` times, one at a time, each from the
/// continuation of the last, and records the latency of each after the warm-up.
struct Driver {
    echo: Addr<Echo>,
    next: u64,
    end: u64,
    asked_at: Instant,
    recorded: Vec<u64>,
    done: Option<Sender<Vec<u64>>>,
}

impl Driver {
    fn ask_next(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        if self.next == self.end {
            let recorded = std::mem::take(&mut self.recorded);
            if let Some(done) = self.done.take() {
                done.send(recorded)?;
            }
            return Ok(());
        }
        let n = self.next;
        self.asked_at = Instant::now();
        ctx.ask(
            &self.echo,
            |r| (n, r),
            TIMEOUT,
            move |me: &mut Driver, ctx, got| {
                let took = me.asked_at.elapsed().as_nanos() as u64;
                assert_eq!(got, Ok(n), "latency: the echo's answer");
                if n >= WARM_UP {
                    me.recorded.push(took);
                }
                me.next += 1;
                if let Err(e) = me.ask_next(ctx) {
                    panic!("latency: the next ask failed: {e}");
                }
            },
        )?;
        Ok(())
    }
}

impl Actor for Driver {
    type Msg = DriverMsg;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: DriverMsg) -> Result<(), ActorError> {
        let DriverMsg::Start { requests, done } = msg;
        self.next = 0;
        self.end = WARM_UP + requests;
        self.recorded = recording(requests);
        self.done = Some(done);
        self.ask_next(ctx)
    }
}

/// One ball passed back and forth between two actors until `stop`.
struct Bouncer {
    partner: Option<Addr<Bouncer>>,
    stop: Arc<AtomicBool>,
    bounces: Arc<AtomicUsize>,
}

enum BounceMsg {
    Meet(Addr<Bouncer>),
    Ball,
}

impl Actor for Bouncer {
    type Msg = BounceMsg;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: BounceMsg) -> Result<(), ActorError> {
        match msg {
            BounceMsg::Meet(partner) => self.partner = Some(partner),
            BounceMsg::Ball => {
                // ORDERING: Relaxed; a statistic and a stop request, neither
                // publishes data.
                self.bounces.fetch_add(1, Ordering::Relaxed);
                if !self.stop.load(Ordering::Relaxed) {
                    let partner = self.partner.as_ref().ok_or("ball before meet")?;
                    ctx.send(partner, BounceMsg::Ball)?;
                }
            }
        }
        Ok(())
    }
}

/// The background of the loaded shapes: [`PAIRS`] pairs, each passing one
/// ball, and what they counted.
struct Background {
    stop: Arc<AtomicBool>,
    bounces: Arc<AtomicUsize>,
    since: (usize, Instant),
}

impl Background {
    fn actors(system: &System) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let bounces = Arc::new(AtomicUsize::new(0));
        for _ in 0..PAIRS {
            let spawn = || {
                let (stop, bounces) = (stop.clone(), bounces.clone());
                system
                    .spawn(move || Bouncer {
                        partner: None,
                        stop: stop.clone(),
                        bounces: bounces.clone(),
                    })
                    .expect("spawn bouncer")
            };
            let (a, b) = (spawn(), spawn());
            a.tell(BounceMsg::Meet(b.clone())).expect("bouncer alive");
            b.tell(BounceMsg::Meet(a.clone())).expect("bouncer alive");
            a.tell(BounceMsg::Ball).expect("bouncer alive");
        }
        Background {
            stop,
            bounces,
            since: (0, Instant::now()),
        }
    }

    fn threads<'s>(s: &'s thread::Scope<'s, '_>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let bounces = Arc::new(AtomicUsize::new(0));
        for _ in 0..PAIRS {
            let (to_b, b_rx) = bounded::<()>(1);
            let (to_a, a_rx) = bounded::<()>(1);
            let (stop_b, bounces_b) = (stop.clone(), bounces.clone());
            s.spawn(move || {
                // Forwards until `stop`, then drops its sender: A sees the end.
                while b_rx.recv().is_ok() {
                    // ORDERING: Relaxed, as in `Bouncer`.
                    bounces_b.fetch_add(1, Ordering::Relaxed);
                    if stop_b.load(Ordering::Relaxed) || to_a.send(()).is_err() {
                        break;
                    }
                }
            });
            let (stop_a, bounces_a) = (stop.clone(), bounces.clone());
            s.spawn(move || {
                to_b.send(()).expect("partner alive");
                while a_rx.recv().is_ok() {
                    // ORDERING: Relaxed, as in `Bouncer`.
                    bounces_a.fetch_add(1, Ordering::Relaxed);
                    if stop_a.load(Ordering::Relaxed) || to_b.send(()).is_err() {
                        break;
                    }
                }
            });
        }
        Background {
            stop,
            bounces,
            since: (0, Instant::now()),
        }
    }

    /// Starts counting now (after the warm-up).
    fn mark(&mut self) {
        // ORDERING: Relaxed, as in `Bouncer`.
        self.since = (self.bounces.load(Ordering::Relaxed), Instant::now());
    }

    /// Round trips per second since [`Background::mark`]; stops the pairs.
    fn finish(self) -> f64 {
        // ORDERING: Relaxed, as in `Bouncer`.
        let bounces = self.bounces.load(Ordering::Relaxed) - self.since.0;
        self.stop.store(true, Ordering::Relaxed);
        bounces as f64 / 2.0 / self.since.1.elapsed().as_secs_f64()
    }
}

/// `requests` recorded asks (after [`WARM_UP`] more) of an echo actor, by
/// `asker`, with [`PAIRS`] pairs ping-ponging beside them if `loaded`.
pub fn playhouse(asker: Asker, loaded: bool, requests: u64) -> Sample {
    let system = new_system();
    let echo = system.spawn(|| Echo).expect("spawn echo");
    let mut background = loaded.then(|| Background::actors(&system));
    // Parks per request say whether a worker slept between requests (each
    // such request then paid a wake-up); steals, whether the echo moved.
    let mut counts = PoolCounts::of(&system);
    let (ns, elapsed) = match asker {
        Asker::Thread => {
            let mut recorded = recording(requests);
            let mut start = Instant::now();
            for n in 0..WARM_UP + requests {
                if n == WARM_UP {
                    if let Some(b) = &mut background {
                        b.mark();
                    }
                    counts = PoolCounts::of(&system);
                    start = Instant::now();
                }
                let asked = Instant::now();
                let got = echo.ask(|r| (n, r), TIMEOUT).expect("echo answers");
                let took = asked.elapsed().as_nanos() as u64;
                assert_eq!(got, n, "latency: the echo's answer");
                if n >= WARM_UP {
                    recorded.push(took);
                }
            }
            (recorded, start.elapsed())
        }
        Asker::Actor => {
            let e = echo.clone();
            let driver = system
                .spawn(move || Driver {
                    echo: e.clone(),
                    next: 0,
                    end: 0,
                    asked_at: Instant::now(),
                    recorded: Vec::new(),
                    done: None,
                })
                .expect("spawn driver");
            if let Some(b) = &mut background {
                b.mark();
            }
            // The warm-up is counted here too, as it is timed.
            counts = PoolCounts::of(&system);
            let (done, recorded) = bounded(1);
            let start = Instant::now();
            driver
                .tell(DriverMsg::Start { requests, done })
                .expect("driver alive");
            let recorded = recorded
                .recv_timeout(LIMIT)
                .expect("latency: the driver finished");
            // The warm-up is inside the clock here; the rate is a side figure.
            (recorded, start.elapsed())
        }
    };
    let counts = counts.since(&system);
    let background_rate = background.map(Background::finish);
    assert_eq!(ns.len() as u64, requests, "latency: requests recorded");
    system.shutdown().expect("shutdown");
    sample(ns, elapsed, background_rate).with_pool(counts)
}

/// The same requests between two threads over two `bounded(1)` channels,
/// with [`PAIRS`] pairs of threads ping-ponging beside them if `loaded`
/// (threads have no `Context::ask`: one baseline serves both askers).
pub fn baseline(loaded: bool, requests: u64) -> Sample {
    thread::scope(|s| {
        let mut background = loaded.then(|| Background::threads(s));
        let (to_server, server_rx) = bounded::<u64>(1);
        let (to_client, client_rx) = bounded::<u64>(1);
        s.spawn(move || {
            for n in server_rx {
                if to_client.send(n).is_err() {
                    break;
                }
            }
        });
        let mut recorded = recording(requests);
        let mut start = Instant::now();
        for n in 0..WARM_UP + requests {
            if n == WARM_UP {
                if let Some(b) = &mut background {
                    b.mark();
                }
                start = Instant::now();
            }
            let asked = Instant::now();
            to_server.send(n).expect("server alive");
            let got = client_rx.recv_timeout(TIMEOUT).expect("server answers");
            let took = asked.elapsed().as_nanos() as u64;
            assert_eq!(got, n, "latency baseline: the server's answer");
            if n >= WARM_UP {
                recorded.push(took);
            }
        }
        let elapsed = start.elapsed();
        drop(to_server);
        let background_rate = background.map(Background::finish);
        sample(recorded, elapsed, background_rate)
    })
}
