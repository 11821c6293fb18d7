#![cfg(loom)]
//! Loom model of the pool's run queues: the owner pushes and pops while a thief steals.
//!
//! Run with `RUSTFLAGS="--cfg loom -C debug-assertions" LOOM_MAX_PREEMPTIONS=2
//! CARGO_TARGET_DIR=target/loom cargo test --release --test loom_pool_queue`.

#[cfg(not(debug_assertions))]
compile_error!("loom models need debug assertions: add `-C debug-assertions` to RUSTFLAGS");

mod common;

use common::{model, model_bounded};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use playhouse::loom_api::{SpinLock, Task, local};
use std::sync::Arc;

/// One counter per task; task `i` bumps `runs[i]`.
fn counters(n: usize) -> Arc<Vec<AtomicUsize>> {
    Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect())
}

fn job(runs: &Arc<Vec<AtomicUsize>>, i: usize) -> Task {
    let runs = Arc::clone(runs);
    Task::job(move || {
        runs[i].fetch_add(1, Ordering::Relaxed);
    })
}

fn assert_each_ran_once(runs: &[AtomicUsize]) {
    for (i, r) in runs.iter().enumerate() {
        assert_eq!(r.load(Ordering::Relaxed), 1, "task {i}");
    }
}

#[test]
fn owner_push_pop_racing_steal_runs_each_task_once() {
    model(|| {
        let runs = counters(3);
        let (owner, victim) = local();
        owner.push(job(&runs, 0));
        owner.push(job(&runs, 1));

        let thief = thread::spawn(move || {
            let (mine, _) = local();
            let mut ran = 0;
            if let Some((task, count)) = victim.steal_into(&mine, false, &mut Vec::new()) {
                task.run();
                ran += 1;
                while let Some(task) = mine.pop(true).map(|(t, _)| t) {
                    task.run();
                    ran += 1;
                }
                assert_eq!(ran, count, "the steal's count matches what it moved");
            }
            ran
        });

        owner.push(job(&runs, 2));
        let mut ran = 0;
        while let Some(task) = owner.pop(true).map(|(t, _)| t) {
            task.run();
            ran += 1;
        }
        let stolen = thief.join().unwrap();
        assert_eq!(ran + stolen, 3);
        assert_each_ran_once(&runs);
    });
}

#[test]
fn two_thieves_split_a_queue_without_loss_or_duplication() {
    model(|| {
        let runs = counters(3);
        let (owner, victim) = local();
        for i in 0..3 {
            owner.push(job(&runs, i));
        }
        let victim = Arc::new(victim);
        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let victim = Arc::clone(&victim);
                thread::spawn(move || {
                    let (mine, _) = local();
                    let mut ran = 0;
                    while let Some((task, _)) = victim.steal_into(&mine, false, &mut Vec::new()) {
                        task.run();
                        ran += 1;
                        while let Some(task) = mine.pop(true).map(|(t, _)| t) {
                            task.run();
                            ran += 1;
                        }
                    }
                    ran
                })
            })
            .collect();
        let stolen: usize = thieves.into_iter().map(|t| t.join().unwrap()).sum();
        let mut ran = 0;
        while let Some(task) = owner.pop(true).map(|(t, _)| t) {
            task.run();
            ran += 1;
        }
        assert_eq!(ran + stolen, 3);
        assert_each_ran_once(&runs);
    });
}

#[test]
fn run_next_slot_racing_a_thief_that_may_take_it_runs_each_task_once() {
    model(|| {
        let runs = counters(3);
        let (owner, victim) = local();
        owner.push(job(&runs, 0));
        assert!(owner.push_next(job(&runs, 1)), "the FIFO holds a task");

        // A thief that has seen the owner stuck: it may take the run-next
        // task once the FIFO is empty.
        let thief = thread::spawn(move || {
            let (mine, _) = local();
            let mut ran = 0;
            while let Some((task, _)) = victim.steal_into(&mine, true, &mut Vec::new()) {
                task.run();
                ran += 1;
                while let Some((task, _)) = mine.pop(true) {
                    task.run();
                    ran += 1;
                }
            }
            ran
        });

        // Displaces task 1 from the slot to the back of the FIFO.
        let _ = owner.push_next(job(&runs, 2));
        let mut ran = 0;
        while let Some((task, _)) = owner.pop(false) {
            task.run();
            ran += 1;
        }
        let stolen = thief.join().unwrap();
        assert_eq!(ran + stolen, 3);
        assert_each_ran_once(&runs);
    });
}

/// The queues' spin lock alone: two threads increment a plain (non-atomic)
/// counter under it. Loom's cell reports any two accesses the lock fails to
/// order, and the total shows no increment lost.
#[test]
fn spin_lock_excludes_and_publishes() {
    model(|| {
        let lock = Arc::new(SpinLock::new(0_u32));
        let other = {
            let lock = Arc::clone(&lock);
            thread::spawn(move || lock.with(|n| *n += 1))
        };
        let mine = lock.with(|n| {
            *n += 1;
            *n
        });
        other.join().unwrap();
        assert!(mine == 1 || mine == 2);
        assert_eq!(lock.with(|n| *n), 2);
    });
}

/// Three threads on the lock, so two may spin at once. At most one
/// preemption: at two, loom explores two spinners alternating for ever (see
/// the same note in `loom-tests/mailbox.rs`).
#[test]
fn spin_lock_excludes_three_threads() {
    model_bounded(1, || {
        let lock = Arc::new(SpinLock::new(0_u32));
        let adders: Vec<_> = (0..2)
            .map(|_| {
                let lock = Arc::clone(&lock);
                thread::spawn(move || lock.with(|n| *n += 1))
            })
            .collect();
        lock.with(|n| *n += 1);
        for a in adders {
            a.join().unwrap();
        }
        assert_eq!(lock.with(|n| *n), 3);
    });
}
