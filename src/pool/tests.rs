//! Unit tests of the pool: delivery, stealing, naming, panics, idling and shutdown.

use super::{PoolHandle, Runnable, ThreadPool, current_worker_name, on_worker_thread};
use crate::sync::{Arc, AtomicBool, AtomicUsize, Condvar, Mutex, Ordering};
use std::collections::HashSet;
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

/// How long a test waits for something that should happen at once before it
/// declares failure. Only a bound: nothing waits for it to pass.
const PATIENCE: Duration = Duration::from_secs(10);

/// Polls `cond` until it holds, failing the test after `timeout`.
fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

fn recv<T>(rx: &Receiver<T>) -> T {
    rx.recv_timeout(PATIENCE).expect("no message in time")
}

/// A barrier whose `wait` fails (panics) after [`PATIENCE`] instead of
/// hanging, so a broken pool fails its test rather than blocking its drop.
struct Meeting {
    arrived: Mutex<usize>,
    all_here: Condvar,
    parties: usize,
}

impl Meeting {
    fn new(parties: usize) -> Arc<Self> {
        Arc::new(Meeting {
            arrived: Mutex::new(0),
            all_here: Condvar::new(),
            parties,
        })
    }

    fn wait(&self) {
        let deadline = Instant::now() + PATIENCE;
        let mut arrived = self.arrived.lock();
        *arrived += 1;
        self.all_here.notify_all();
        while *arrived < self.parties {
            let now = Instant::now();
            assert!(
                now < deadline,
                "only {} of {} arrived",
                *arrived,
                self.parties
            );
            arrived = self.all_here.wait_timeout(arrived, deadline - now);
        }
    }
}

fn pool(threads: usize) -> ThreadPool {
    ThreadPool::builder()
        .threads(threads)
        .build()
        .expect("pool starts")
}

#[test]
fn every_job_runs_exactly_once() {
    const SUBMITTERS: usize = 4;
    const JOBS: usize = 10_000;
    let pool = Arc::new(pool(4));
    let runs: Arc<Vec<AtomicUsize>> = Arc::new(
        (0..SUBMITTERS * JOBS)
            .map(|_| AtomicUsize::new(0))
            .collect(),
    );
    let submitters: Vec<_> = (0..SUBMITTERS)
        .map(|s| {
            let (pool, runs) = (Arc::clone(&pool), Arc::clone(&runs));
            thread::spawn(move || {
                for j in 0..JOBS {
                    let runs = Arc::clone(&runs);
                    pool.execute(move || {
                        runs[s * JOBS + j].fetch_add(1, Ordering::Relaxed);
                    });
                }
            })
        })
        .collect();
    for s in submitters {
        s.join().unwrap();
    }
    let pool = Arc::into_inner(pool).expect("submitters are done");
    pool.shutdown();
    let not_once: Vec<usize> = (0..runs.len())
        .filter(|&i| runs[i].load(Ordering::Relaxed) != 1)
        .collect();
    assert!(
        not_once.is_empty(),
        "jobs not run exactly once: {not_once:?}"
    );
}

#[test]
fn metrics_count_every_task() {
    let pool = pool(3);
    for _ in 0..1000 {
        pool.execute(|| {});
    }
    let shared = Arc::clone(&pool.shared);
    pool.shutdown();
    assert_eq!(shared.metrics().tasks_run, 1000);
}

#[test]
fn nested_execute_runs_every_job() {
    let pool = Arc::new(pool(2));
    let (tx, rx) = mpsc::channel();
    let inner_pool = Arc::clone(&pool);
    pool.execute(move || {
        for depth in 0..3 {
            let tx = tx.clone();
            let p = Arc::clone(&inner_pool);
            inner_pool.execute(move || {
                let tx2 = tx.clone();
                p.execute(move || tx2.send(depth + 10).unwrap());
                tx.send(depth).unwrap();
            });
        }
    });
    let mut got: Vec<i32> = (0..6).map(|_| recv(&rx)).collect();
    got.sort_unstable();
    assert_eq!(got, [0, 1, 2, 10, 11, 12]);
}

#[test]
fn execute_from_a_worker_uses_its_local_queue() {
    let pool = pool(1);
    let shared = Arc::clone(&pool.shared);
    let (tx, rx) = mpsc::channel();
    let handle = pool.handle();
    pool.execute(move || {
        handle.shared.submit(super::Task::job(|| {}), false);
        // The only worker is running us: the job can only be where we put it.
        let local = shared.workers[0].steal.pending() == super::queue::Pending::NextOnly;
        let injector = !shared.injector.is_empty();
        tx.send((local, injector)).unwrap();
    });
    assert_eq!(recv(&rx), (true, false), "(in local queue, in injector)");
}

#[test]
fn panicking_job_does_not_kill_the_worker() {
    let pool = pool(1);
    let (tx, rx) = mpsc::channel();
    pool.execute(|| panic!("a job failed on purpose"));
    pool.execute(|| std::panic::panic_any(42_u32));
    pool.execute(move || tx.send(current_worker_name()).unwrap());
    assert_eq!(recv(&rx).as_deref(), Some("playhouse-worker-0"));
    let shared = Arc::clone(&pool.shared);
    pool.shutdown();
    assert_eq!(shared.metrics().tasks_run, 3);
}

#[test]
fn idle_worker_steals_from_a_blocked_worker() {
    const JOBS: usize = 4;
    let pool = Arc::new(pool(2));
    let (tx, rx) = mpsc::channel();
    let inner = Arc::clone(&pool);
    pool.execute(move || {
        // These go to this worker's local queue, and this worker stays
        // blocked below until they have all run: only a thief can run them.
        let (done_tx, done_rx) = mpsc::channel();
        for _ in 0..JOBS {
            let done_tx = done_tx.clone();
            inner.execute(move || done_tx.send(current_worker_name()).unwrap());
        }
        let me = current_worker_name();
        let ran_on: Vec<_> = (0..JOBS).map(|_| done_rx.recv_timeout(PATIENCE)).collect();
        tx.send((me, ran_on)).unwrap();
    });
    let (me, ran_on) = recv(&rx);
    for name in ran_on {
        let name = name.expect("a queued job did not run while its worker was blocked");
        assert_ne!(name, me, "a job ran on the blocked worker");
    }
    let shared = Arc::clone(&pool.shared);
    drop(pool);
    assert!(shared.metrics().steals >= 1);
}

#[test]
fn workers_are_named_by_prefix() {
    const THREADS: usize = 3;
    let pool = ThreadPool::builder()
        .threads(THREADS)
        .thread_name_prefix("named")
        .build()
        .unwrap();
    assert_eq!(pool.threads(), THREADS);
    // All jobs meet at the barrier, so each runs on a different worker.
    let barrier = Meeting::new(THREADS);
    let (tx, rx) = mpsc::channel();
    for _ in 0..THREADS {
        let (barrier, tx) = (Arc::clone(&barrier), tx.clone());
        pool.execute(move || {
            barrier.wait();
            let thread_name = thread::current().name().map(str::to_owned);
            tx.send((thread_name, current_worker_name(), on_worker_thread()))
                .unwrap();
        });
    }
    let mut names = HashSet::new();
    for _ in 0..THREADS {
        let (thread_name, worker_name, on_worker) = recv(&rx);
        assert_eq!(thread_name, worker_name);
        assert!(on_worker);
        names.insert(worker_name.unwrap());
    }
    let expected: HashSet<String> = (0..THREADS).map(|i| format!("named-{i}")).collect();
    assert_eq!(names, expected);
    assert!(!on_worker_thread());
    assert_eq!(current_worker_name(), None);
}

#[test]
fn default_name_prefix_and_thread_count() {
    let default = ThreadPool::builder().build().unwrap();
    assert_eq!(default.threads(), crate::sync::num_cpus());
    let (tx, rx) = mpsc::channel();
    default.execute(move || {
        tx.send(thread::current().name().map(str::to_owned))
            .unwrap()
    });
    let name = recv(&rx).expect("workers are named");
    let index: usize = name
        .strip_prefix("playhouse-worker-")
        .and_then(|i| i.parse().ok())
        .unwrap_or_else(|| panic!("unexpected worker name {name:?}"));
    assert!(index < default.threads());
}

#[test]
fn zero_settings_are_rejected() {
    let err = ThreadPool::builder().threads(0).build().unwrap_err();
    assert_eq!(err.setting(), Some("workers"));
    let err = ThreadPool::builder().stack_size(0).build().unwrap_err();
    assert_eq!(err.setting(), Some("stack size"));
}

#[test]
fn thread_that_cannot_start_is_a_build_error() {
    // A petabyte of stack: more than the address space, so the OS refuses.
    let err = ThreadPool::builder()
        .threads(2)
        .stack_size(1 << 50)
        .build()
        .unwrap_err();
    assert_eq!(err.setting(), None);
    assert!(std::error::Error::source(&err).is_some());
}

/// Lives in a worker's thread-local, so it is dropped as the worker thread
/// ends, which is before `join` on it returns. Its drop waits (boundedly) for
/// `hold` to be released, so a pool that returned without joining would see
/// `ended` still short.
struct ExitProbe {
    ended: Arc<AtomicUsize>,
    hold: Receiver<()>,
}

impl Drop for ExitProbe {
    fn drop(&mut self) {
        // The test never sends: this returns when the test drops the sender,
        // or after the bound, whichever is first.
        let _ = self.hold.recv_timeout(Duration::from_millis(100));
        self.ended.fetch_add(1, Ordering::Relaxed);
    }
}

thread_local! {
    static PROBE: std::cell::RefCell<Option<ExitProbe>> = const { std::cell::RefCell::new(None) };
}

/// Puts an [`ExitProbe`] on each of the pool's `threads` workers. Returns the
/// count of ended workers and the senders holding the probes.
fn probe_every_worker(
    pool: &ThreadPool,
    threads: usize,
) -> (Arc<AtomicUsize>, Vec<mpsc::Sender<()>>) {
    let ended = Arc::new(AtomicUsize::new(0));
    let meeting = Meeting::new(threads + 1);
    let mut holds = Vec::new();
    // Every job waits at the meeting, so each runs on a different worker.
    for _ in 0..threads {
        let (hold_tx, hold) = mpsc::channel();
        holds.push(hold_tx);
        let (ended, meeting) = (Arc::clone(&ended), Arc::clone(&meeting));
        pool.execute(move || {
            PROBE.with(|p| *p.borrow_mut() = Some(ExitProbe { ended, hold }));
            meeting.wait();
        });
    }
    meeting.wait();
    (ended, holds)
}

#[test]
fn shutdown_joins_every_worker() {
    const THREADS: usize = 3;
    let pool = pool(THREADS);
    let (ended, holds) = probe_every_worker(&pool, THREADS);
    assert_eq!(ended.load(Ordering::Relaxed), 0);
    pool.shutdown();
    assert_eq!(ended.load(Ordering::Relaxed), THREADS);
    drop(holds);
}

#[test]
fn drop_joins_every_worker() {
    const THREADS: usize = 2;
    let pool = pool(THREADS);
    let (ended, holds) = probe_every_worker(&pool, THREADS);
    drop(pool);
    assert_eq!(ended.load(Ordering::Relaxed), THREADS);
    drop(holds);
}

#[test]
fn shutdown_runs_queued_jobs_first() {
    let pool = pool(2);
    let count = Arc::new(AtomicUsize::new(0));
    let gate = Meeting::new(2);
    {
        let gate = Arc::clone(&gate);
        pool.execute(move || {
            gate.wait();
        });
    }
    for _ in 0..100 {
        let count = Arc::clone(&count);
        pool.execute(move || {
            count.fetch_add(1, Ordering::Relaxed);
        });
    }
    let shutdown = thread::spawn(move || pool.shutdown());
    gate.wait();
    shutdown.join().unwrap();
    assert_eq!(count.load(Ordering::Relaxed), 100);
}

#[test]
fn idle_pool_parks_every_worker() {
    let pool = pool(2);
    wait_until("both workers park", PATIENCE, || pool.metrics().parks >= 2);
    // A job wakes a worker, which runs it and parks again.
    let (tx, rx) = mpsc::channel();
    pool.execute(move || tx.send(()).unwrap());
    recv(&rx);
    wait_until("a worker parks again", PATIENCE, || {
        pool.metrics().parks >= 3
    });
}

#[test]
fn terminate_reports_a_stuck_worker_then_succeeds() {
    let pool = pool(2);
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel();
    pool.execute(move || {
        started_tx.send(current_worker_name().unwrap()).unwrap();
        release_rx.recv().unwrap();
    });
    let stuck = recv(&started_rx);
    assert_eq!(pool.terminate(Duration::from_millis(20)), Err(vec![stuck]));
    release_tx.send(()).unwrap();
    assert_eq!(pool.terminate(PATIENCE), Ok(()));
    assert_eq!(pool.terminate(Duration::ZERO), Ok(()), "idempotent");
}

#[test]
fn terminate_from_a_worker_skips_itself() {
    let pool = Arc::new(pool(2));
    let (tx, rx) = mpsc::channel();
    let inner = Arc::clone(&pool);
    pool.execute(move || {
        let me = current_worker_name();
        tx.send((me, inner.terminate(PATIENCE))).unwrap();
    });
    let (me, result) = recv(&rx);
    assert!(me.is_some());
    assert_eq!(result, Ok(()));
    // The calling worker exits once its job has returned.
    assert_eq!(pool.terminate(PATIENCE), Ok(()));
}

/// Submits a job with `submit` to a pool that has shut down: the closure
/// (and its clone of `ran`) must be dropped at once, unrun.
fn assert_dropped_unrun_after_shutdown(submit: fn(&ThreadPool, Box<dyn FnOnce() + Send>)) {
    let pool = pool(2);
    assert_eq!(pool.terminate(PATIENCE), Ok(()));
    let ran = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&ran);
    submit(&pool, Box::new(move || flag.store(true, Ordering::Relaxed)));
    assert_eq!(Arc::strong_count(&ran), 1, "the closure is dropped at once");
    assert!(!ran.load(Ordering::Relaxed));
}

#[test]
fn job_after_shutdown_is_dropped_unrun() {
    assert_dropped_unrun_after_shutdown(|pool, job| pool.execute(job));
}

#[test]
fn staged_starts_run_whether_or_not_they_fill_a_batch() {
    let pool = pool(2);
    let (tx, rx) = mpsc::channel();
    // One short of a batch (only the first start is announced; the workers
    // take the rest with it), then one more than a batch (a full batch the
    // spawner moves to the injector, then a start staged alone).
    for n in [
        super::queue::Staged::BATCH - 1,
        super::queue::Staged::BATCH + 1,
    ] {
        for i in 0..n {
            let tx = tx.clone();
            pool.execute_as_start(move || tx.send(i).unwrap());
        }
        let mut got: Vec<usize> = (0..n).map(|_| recv(&rx)).collect();
        got.sort_unstable();
        assert_eq!(got, (0..n).collect::<Vec<_>>());
    }
}

#[test]
fn a_staged_start_runs_on_a_pool_whose_workers_never_run_out_of_work() {
    // The only worker keeps re-submitting a job to itself until the staged
    // start has run, so it never goes idle: only its periodic look at the
    // global queues can find the start.
    let pool = Arc::new(pool(1));
    let stop = Arc::new(AtomicBool::new(false));
    fn spin(pool: Arc<ThreadPool>, stop: Arc<AtomicBool>) {
        if !stop.load(Ordering::Acquire) {
            let again = Arc::clone(&pool);
            pool.execute(move || spin(again, stop));
        }
    }
    let (started, busy) = mpsc::channel();
    let (p, s) = (Arc::clone(&pool), Arc::clone(&stop));
    pool.execute(move || {
        started.send(()).unwrap();
        spin(p, s);
    });
    recv(&busy);
    let (tx, rx) = mpsc::channel();
    let flag = Arc::clone(&stop);
    pool.execute_as_start(move || {
        flag.store(true, Ordering::Release);
        tx.send(()).unwrap();
    });
    recv(&rx);
    assert_eq!(pool.terminate(PATIENCE), Ok(()));
}

#[test]
fn staged_starts_moved_to_the_injector_are_announced_to_the_sleepers() {
    // Three workers: two asleep, one just done with a job and searching
    // (most rounds), so the first start staged wakes nobody. The searcher
    // goes to sleep, finds the starts in its last look, moves both to the
    // injector, takes its share (one of two, with three workers) and blocks
    // in it until the second has run. Only if moving them announced the
    // second does a sleeper wake for it.
    let pool = pool(3);
    for round in 0..50 {
        wait_until("every worker sleeps", PATIENCE, || {
            pool.sleeping_workers() == 3
        });
        let (woke, searching) = mpsc::channel();
        pool.execute(move || woke.send(()).unwrap());
        recv(&searching);
        let (second_ran, second) = mpsc::channel::<()>();
        let (tx, done) = mpsc::channel();
        pool.execute_as_start(move || {
            let waited = second.recv_timeout(PATIENCE);
            tx.send(waited.is_ok()).unwrap();
        });
        pool.execute_as_start(move || second_ran.send(()).unwrap());
        assert!(recv(&done), "round {round}: the second start never ran");
    }
    assert_eq!(pool.terminate(PATIENCE), Ok(()));
}

#[test]
fn a_start_staged_after_shutdown_is_dropped_unrun() {
    assert_dropped_unrun_after_shutdown(|pool, job| pool.execute_as_start(job));
}

/// A task that re-schedules itself until it has run `limit` times.
struct Repeat {
    runs: AtomicUsize,
    limit: usize,
    handle: PoolHandle,
    done: Mutex<Option<mpsc::Sender<usize>>>,
}

impl Runnable for Repeat {
    fn run(self: Arc<Self>, _worker: usize) -> Option<Arc<dyn Runnable>> {
        let runs = self.runs.fetch_add(1, Ordering::Relaxed) + 1;
        if runs >= self.limit {
            if let Some(done) = self.done.lock().take() {
                done.send(runs).unwrap();
            }
            None
        } else if runs.is_multiple_of(2) {
            // Half of the runs go back through the worker, half through a
            // fresh submission.
            Some(self)
        } else {
            let handle = self.handle.clone();
            handle.submit(self);
            None
        }
    }
}

#[test]
fn rescheduled_runnable_runs_n_times() {
    const N: usize = 1000;
    let pool = pool(2);
    let (tx, rx) = mpsc::channel();
    let task = Arc::new(Repeat {
        runs: AtomicUsize::new(0),
        limit: N,
        handle: pool.handle(),
        done: Mutex::new(Some(tx)),
    });
    pool.handle().submit(Arc::clone(&task));
    assert_eq!(recv(&rx), N);
    pool.shutdown();
    assert_eq!(task.runs.load(Ordering::Relaxed), N);
}

/// A task that keeps re-scheduling itself on its worker's local queue until
/// told to stop.
struct Spin {
    stop: AtomicBool,
    started: Mutex<Option<mpsc::Sender<()>>>,
}

impl Runnable for Spin {
    fn run(self: Arc<Self>, _worker: usize) -> Option<Arc<dyn Runnable>> {
        if let Some(started) = self.started.lock().take() {
            started.send(()).unwrap();
        }
        if self.stop.load(Ordering::Relaxed) {
            return None;
        }
        Some(self)
    }
}

#[test]
fn local_work_does_not_starve_the_injector() {
    // One worker whose local queue never empties: only the periodic injector
    // check lets the outside job in.
    let pool = pool(1);
    let (started_tx, started_rx) = mpsc::channel();
    let spin = Arc::new(Spin {
        stop: AtomicBool::new(false),
        started: Mutex::new(Some(started_tx)),
    });
    pool.handle().submit(Arc::clone(&spin));
    // From here on the worker's local queue is never empty.
    recv(&started_rx);
    let (tx, rx) = mpsc::channel();
    let stopper = Arc::clone(&spin);
    pool.execute(move || {
        stopper.stop.store(true, Ordering::Relaxed);
        tx.send(()).unwrap();
    });
    let stopped = rx.recv_timeout(PATIENCE);
    spin.stop.store(true, Ordering::Relaxed); // so a failure does not hang the drop
    assert!(stopped.is_ok(), "the injector job never ran");
    pool.shutdown();
}

#[test]
fn idle_worker_takes_the_run_next_task_of_a_blocked_worker() {
    // One job submitted from a worker sits in its run-next slot, where no
    // thief takes it while the owner keeps finishing tasks. This owner blocks
    // until the job has run, so the other worker must see it stuck and take it.
    let pool = Arc::new(pool(2));
    let (tx, rx) = mpsc::channel();
    let inner = Arc::clone(&pool);
    pool.execute(move || {
        let (done_tx, done_rx) = mpsc::channel();
        inner.execute(move || done_tx.send(current_worker_name()).unwrap());
        let ran_on = done_rx.recv_timeout(PATIENCE);
        tx.send((current_worker_name(), ran_on)).unwrap();
    });
    let (me, ran_on) = recv(&rx);
    let ran_on = ran_on.expect("a run-next job did not run while its worker was blocked");
    assert_ne!(ran_on, me, "the job ran on the blocked worker");
}

#[test]
fn run_next_chain_does_not_starve_the_local_queue() {
    // On one worker, a chain of jobs each submitting the next always has a
    // task in the run-next slot; the job displaced into the FIFO must still
    // run long before the chain ends.
    const LINKS: usize = 1_000;
    type Order = Arc<Mutex<Vec<usize>>>;
    fn link(n: usize, pool: Arc<ThreadPool>, order: Order, done: mpsc::Sender<()>) {
        order.lock().push(n);
        if n < LINKS {
            let next = Arc::clone(&pool);
            pool.execute(move || link(n + 1, next, order, done));
        } else {
            done.send(()).unwrap();
        }
    }
    let pool = Arc::new(pool(1));
    let order: Order = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel();
    let (inner, order2) = (Arc::clone(&pool), Arc::clone(&order));
    pool.execute(move || {
        // Into the slot, then displaced to the FIFO by the chain's first link.
        let waiting = Arc::clone(&order2);
        inner.execute(move || waiting.lock().push(usize::MAX));
        let chain = Arc::clone(&inner);
        inner.execute(move || link(1, chain, order2, tx));
    });
    recv(&rx);
    let order = order.lock();
    assert_eq!(order.len(), LINKS + 1, "every job ran once");
    let at = order.iter().position(|&n| n == usize::MAX).unwrap();
    // The streak limit lets a couple of links run first, not the chain.
    assert!(at <= 4, "the displaced job ran only after {at} links");
}

#[test]
fn last_searcher_wakes_a_sleeper_only_for_work_left_behind() {
    // Driven by hand on a pool's shared state, no threads: worker 1 sleeps,
    // worker 0 is the one searcher and has just found its task.
    use super::Task;
    use super::queue::local;
    use super::shared::Shared;
    let (locals, steals): (Vec<_>, Vec<_>) = (0..2).map(|_| local()).unzip();
    let shared = Shared::new(vec!["w0".into(), "w1".into()], steals, None);
    shared.idle.register_sleeper(1, false);
    assert!(shared.idle.transition_to_searching());
    assert!(
        shared.idle.transition_from_searching(),
        "worker 0 was the last searcher"
    );
    // Nothing queued anywhere: the task it found was the only one.
    assert!(
        !shared.notify_if_work_pending(),
        "woke a worker with nothing to do"
    );
    assert!(shared.idle.is_sleeping(1));
    // A task left in the injector is work for the sleeper.
    assert!(shared.injector.push(Task::job(|| {})).is_ok());
    assert!(
        shared.notify_if_work_pending(),
        "left the queued task to nobody"
    );
    assert!(
        !shared.idle.is_sleeping(1),
        "the sleeper is off the list, searching"
    );
    drop(locals);
}
