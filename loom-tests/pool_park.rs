#![cfg(loom)]
//! Loom models of parking: the parker's token, and submissions racing workers going to sleep.
//!
//! A lost wake-up shows up as a loom deadlock: the model's main thread waits
//! for a job that a parked worker never runs. Run with `RUSTFLAGS="--cfg loom
//! -C debug-assertions" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom
//! cargo test --release --test loom_pool_park`.

#[cfg(not(debug_assertions))]
compile_error!("loom models need debug assertions: add `-C debug-assertions` to RUSTFLAGS");

mod common;

use common::{model, model_bounded};
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::{Condvar, Mutex};
use loom::thread;
use playhouse::ThreadPool;
use playhouse::loom_api::{Parker, execute_as_start, terminate};
use std::sync::Arc;
use std::time::Duration;

/// A one-shot latch the model's main thread blocks on (so a lost wake-up is
/// a loom deadlock rather than a silent pass).
#[derive(Default)]
struct Latch {
    set: Mutex<bool>,
    cond: Condvar,
}

impl Latch {
    fn set(&self) {
        *self.set.lock().unwrap() = true;
        self.cond.notify_all();
    }

    fn wait(&self) {
        let mut set = self.set.lock().unwrap();
        while !*set {
            set = self.cond.wait(set).unwrap();
        }
    }
}

/// Not modelled by loom (it does not model time): only a bound that a
/// correct pool never reaches.
const FOREVER: Duration = Duration::from_secs(3600);

/// A parker and a flag, and a thread that sets the flag and then unparks.
fn parker_with_racing_unpark() -> (Arc<Parker>, Arc<AtomicBool>, thread::JoinHandle<()>) {
    let parker = Arc::new(Parker::new());
    let flag = Arc::new(AtomicBool::new(false));
    let unparker = {
        let (parker, flag) = (Arc::clone(&parker), Arc::clone(&flag));
        thread::spawn(move || {
            flag.store(true, Ordering::Relaxed);
            parker.unpark();
        })
    };
    (parker, flag, unparker)
}

#[test]
fn parker_unpark_racing_park_never_loses_the_token() {
    model(|| {
        let (parker, flag, unparker) = parker_with_racing_unpark();
        parker.park();
        // Unpark's Release and park's Acquire publish the store above.
        assert!(flag.load(Ordering::Relaxed));
        unparker.join().unwrap();
    });
}

#[test]
fn parker_token_is_kept_and_does_not_accumulate() {
    model(|| {
        let parker = Arc::new(Parker::new());
        let unparker = {
            let parker = Arc::clone(&parker);
            thread::spawn(move || {
                parker.unpark();
                parker.unpark();
            })
        };
        unparker.join().unwrap();
        // Two unparks before a park: the first park returns at once and
        // consumes the single token.
        parker.park();
        let again = {
            let parker = Arc::clone(&parker);
            thread::spawn(move || parker.unpark())
        };
        parker.park();
        again.join().unwrap();
    });
}

#[test]
fn parker_timed_park_consumes_a_racing_token_and_leaves_none() {
    model(|| {
        let (parker, flag, unparker) = parker_with_racing_unpark();
        // Returns with or without the token (loom does not model the
        // timeout); either way the parker is left empty once both are done.
        parker.park_timeout(FOREVER);
        unparker.join().unwrap();
        parker.park_timeout(FOREVER);
        // Now the token, if it came after the first look, is consumed: a
        // fresh unpark/park pair behaves normally.
        assert!(flag.load(Ordering::Relaxed));
        let again = {
            let parker = Arc::clone(&parker);
            thread::spawn(move || parker.unpark())
        };
        parker.park();
        again.join().unwrap();
    });
}

/// A job as the models submit it.
type Job = Box<dyn FnOnce() + Send>;

/// Submits like `ThreadPool::execute`.
fn execute(pool: &ThreadPool, job: Job) {
    pool.execute(job);
}

/// Submits like an actor's first turn (staged from outside the pool).
fn stage(pool: &ThreadPool, job: Job) {
    execute_as_start(pool, job);
}

/// Builds a pool of `threads` workers, submits one job from the model's
/// main thread while the workers race to sleep, waits for the job, then
/// terminates the pool.
fn one_job_runs(threads: usize, submit: fn(&ThreadPool, Job)) {
    let pool = ThreadPool::builder().threads(threads).build().unwrap();
    let latch = Arc::new(Latch::default());
    let done = Arc::clone(&latch);
    submit(&pool, Box::new(move || done.set()));
    latch.wait();
    assert_eq!(terminate(&pool, FOREVER), Ok(()));
}

/// Builds a pool of two workers and submits two jobs from the model's main
/// thread, the first waiting until the second has run: a worker that takes
/// both and blocks in the first must leave the second to the other worker,
/// and wake it if it sleeps.
fn a_job_behind_a_blocked_one_runs(submit: fn(&ThreadPool, Job)) {
    let pool = ThreadPool::builder().threads(2).build().unwrap();
    let (second, done) = (Arc::new(Latch::default()), Arc::new(Latch::default()));
    let (second2, done2) = (Arc::clone(&second), Arc::clone(&done));
    submit(
        &pool,
        Box::new(move || {
            second2.wait();
            done2.set();
        }),
    );
    let second3 = Arc::clone(&second);
    submit(&pool, Box::new(move || second3.set()));
    done.wait();
    assert_eq!(terminate(&pool, FOREVER), Ok(()));
}

#[test]
fn outside_submit_racing_one_worker_going_to_sleep_runs() {
    model(|| one_job_runs(1, execute));
}

#[test]
fn outside_submit_racing_two_workers_going_to_sleep_runs() {
    model(|| one_job_runs(2, execute));
}

#[test]
fn two_outside_submitters_racing_one_worker_both_run() {
    model(|| {
        let pool = Arc::new(ThreadPool::builder().threads(1).build().unwrap());
        let latches: Vec<Arc<Latch>> = (0..2).map(|_| Arc::new(Latch::default())).collect();
        let other = {
            let (pool, done) = (Arc::clone(&pool), Arc::clone(&latches[1]));
            thread::spawn(move || pool.execute(move || done.set()))
        };
        let done = Arc::clone(&latches[0]);
        pool.execute(move || done.set());
        other.join().unwrap();
        for latch in &latches {
            latch.wait();
        }
        assert_eq!(terminate(&pool, FOREVER), Ok(()));
    });
}

#[test]
fn worker_submit_wakes_a_sleeper_that_steals_it() {
    model(|| {
        let pool = Arc::new(ThreadPool::builder().threads(2).build().unwrap());
        let (stolen, done) = (Arc::new(Latch::default()), Arc::new(Latch::default()));
        let (inner, stolen2, done2) = (Arc::clone(&pool), Arc::clone(&stolen), Arc::clone(&done));
        pool.execute(move || {
            // Queued in this worker's run-next slot; this worker then blocks
            // until it has run, so only the other worker can run it: woken
            // by the push, it must watch the slot, see the owner stuck, and
            // take it.
            let stolen3 = Arc::clone(&stolen2);
            inner.execute(move || stolen3.set());
            stolen2.wait();
            done2.set();
        });
        done.wait();
        assert_eq!(terminate(&pool, FOREVER), Ok(()));
    });
}

#[test]
fn blocked_owner_with_a_backlog_and_a_run_next_task_gets_both_run() {
    model(|| {
        let pool = Arc::new(ThreadPool::builder().threads(2).build().unwrap());
        let done = Arc::new(Latch::default());
        let (inner, done2) = (Arc::clone(&pool), Arc::clone(&done));
        pool.execute(move || {
            // The first job lands in the run-next slot, the second displaces
            // it to the FIFO (a backlog, which wakes or unparks the other
            // worker); this worker then blocks until both have run, so the
            // other worker must take the backlog and then the run-next task.
            let latches: Vec<Arc<Latch>> = (0..2).map(|_| Arc::new(Latch::default())).collect();
            for latch in &latches {
                let latch = Arc::clone(latch);
                inner.execute(move || latch.set());
            }
            for latch in &latches {
                latch.wait();
            }
            done2.set();
        });
        done.wait();
        assert_eq!(terminate(&pool, FOREVER), Ok(()));
    });
}

#[test]
fn terminate_racing_workers_going_to_sleep_returns_ok() {
    model(|| {
        let pool = ThreadPool::builder().threads(2).build().unwrap();
        assert_eq!(terminate(&pool, FOREVER), Ok(()));
        // A second call finds every worker exited.
        assert_eq!(terminate(&pool, FOREVER), Ok(()));
    });
}

#[test]
fn an_outside_job_behind_one_that_blocks_its_worker_runs_on_the_other() {
    // One preemption: at two, this model took four minutes, and one finds
    // the lost wake-up it was written for (it deadlocks in about a second
    // without `Worker::after_taking`).
    // A worker may take both jobs in one batch from the injector.
    model_bounded(1, || a_job_behind_a_blocked_one_runs(execute));
}

/// Only the first start staged wakes a worker: a lost wake-up here is a
/// deadlock.
#[test]
fn staged_start_racing_one_worker_going_to_sleep_runs() {
    model(|| one_job_runs(1, stage));
}

#[test]
fn staged_start_racing_two_workers_going_to_sleep_runs() {
    model(|| one_job_runs(2, stage));
}

#[test]
fn a_start_staged_behind_one_that_blocks_its_worker_runs_on_the_other() {
    // One preemption: 75 s at two. Under loom a batch is two starts, so the
    // second fills it and its stager moves both; the unannounced start
    // behind a blocked one is tested with three real workers in
    // `src/pool/tests.rs` (`staged_starts_moved_to_the_injector_are_announced_to_the_sleepers`).
    model_bounded(1, || a_job_behind_a_blocked_one_runs(stage));
}

/// Sets its flag when dropped: a job's closure owns one, so the flag says
/// the job is gone, run or not.
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn a_start_staged_racing_terminate_is_run_or_refused_never_stranded() {
    model(|| {
        let pool = Arc::new(ThreadPool::builder().threads(1).build().unwrap());
        let (ran, gone) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let stager = {
            let (pool, ran, gone) = (Arc::clone(&pool), Arc::clone(&ran), Arc::clone(&gone));
            thread::spawn(move || {
                let guard = SetOnDrop(gone);
                execute_as_start(&pool, move || {
                    let _guard = guard;
                    ran.store(true, Ordering::SeqCst);
                });
            })
        };
        assert_eq!(terminate(&pool, FOREVER), Ok(()));
        stager.join().unwrap();
        // Every worker has exited and the pool is still alive: a start
        // left in the staging area would be neither run nor dropped yet.
        assert!(
            gone.load(Ordering::SeqCst),
            "the start was stranded (ran: {})",
            ran.load(Ordering::SeqCst)
        );
    });
}

#[test]
fn a_full_batch_staged_racing_terminate_runs_every_start_staged_before() {
    model(|| {
        // Under loom a batch is two starts: the stager's fills it and moves
        // both to the injector while the only worker retires. The first
        // start, staged before `terminate`, must run, not be dropped with
        // a batch held between the two queues.
        let pool = Arc::new(ThreadPool::builder().threads(1).build().unwrap());
        let ran = Arc::new(AtomicBool::new(false));
        let ran2 = Arc::clone(&ran);
        execute_as_start(&pool, move || ran2.store(true, Ordering::SeqCst));
        let stager = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || execute_as_start(&pool, || {}))
        };
        assert_eq!(terminate(&pool, FOREVER), Ok(()));
        stager.join().unwrap();
        assert!(
            ran.load(Ordering::SeqCst),
            "a start staged before terminate was dropped"
        );
    });
}
