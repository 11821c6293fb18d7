//! Loom models of the timer's wake-up, cancellation and shutdown protocols.
#![cfg(loom)]

mod common;

use common::model;
use loom::sync::Notify;
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::thread;
use playhouse::loom_api::timer::{ManualClock, Timer};
use std::sync::Arc;
use std::time::Duration;

/// An entry scheduled from another thread while the timer thread is on its
/// way to wait still fires (the push and the wait cannot miss each other),
/// and shutdown then joins the thread.
#[test]
fn once_from_another_thread_races_the_timer_going_to_wait() {
    model(|| {
        let clock = ManualClock::new();
        let at = clock.now();
        let timer = Arc::new(Timer::start(&clock));
        let fired = Arc::new(Notify::new());

        let scheduler = {
            let timer = Arc::clone(&timer);
            let fired = Arc::clone(&fired);
            thread::spawn(move || {
                timer.once(at, move || fired.notify());
            })
        };
        scheduler.join().unwrap();
        // Deadlocks (and loom reports it) if the entry never fires.
        fired.wait();
        timer.shutdown();
    });
}

/// An entry scheduled while the timer thread may be running another's
/// callback still fires: a push that finds the thread awake does not notify
/// it, and the thread looks at the heap again before it waits; one that
/// finds it waiting with nothing due notifies it.
#[test]
fn once_while_the_timer_fires_another_still_fires() {
    model(|| {
        let clock = ManualClock::new();
        let at = clock.now();
        let timer = Arc::new(Timer::start(&clock));
        let first = Arc::new(Notify::new());
        let second = Arc::new(Notify::new());
        {
            let first = Arc::clone(&first);
            timer.once(at, move || first.notify());
        }
        let scheduler = {
            let timer = Arc::clone(&timer);
            let second = Arc::clone(&second);
            thread::spawn(move || {
                timer.once(at, move || second.notify());
            })
        };
        scheduler.join().unwrap();
        // Deadlocks (and loom reports it) if either entry never fires.
        first.wait();
        second.wait();
        timer.shutdown();
    });
}

/// Two entries pushed from two threads while the timer thread waits with
/// nothing to do both fire: the first push to find the thread waiting
/// notifies it and records it awake, so the second does not notify again,
/// and the thread, looking at the heap once it has the lock, finds both (or
/// the second push comes after that look and finds it waiting again).
#[test]
fn two_pushes_racing_the_timer_thread_share_one_notify_and_both_fire() {
    model(|| {
        let clock = ManualClock::new();
        let at = clock.now();
        let timer = Arc::new(Timer::start(&clock));
        let fired: Vec<Arc<Notify>> = (0..2).map(|_| Arc::new(Notify::new())).collect();
        let schedulers: Vec<_> = fired
            .iter()
            .map(|fired| {
                let timer = Arc::clone(&timer);
                let fired = Arc::clone(fired);
                thread::spawn(move || {
                    timer.once(at, move || fired.notify());
                })
            })
            .collect();
        for scheduler in schedulers {
            scheduler.join().unwrap();
        }
        // Deadlocks (and loom reports it) if either entry never fires.
        for fired in &fired {
            fired.wait();
        }
        timer.shutdown();
    });
}

/// Cancel racing the firing of a due one-shot is decided exactly once: the
/// callback runs if and only if `cancel` returned false.
#[test]
fn cancel_racing_the_firing_is_decided_once() {
    model(|| {
        let clock = ManualClock::new();
        let timer = Timer::start(&clock);
        let ran = Arc::new(AtomicBool::new(false));
        let handle = {
            let ran = Arc::clone(&ran);
            // ORDERING: Relaxed. Read after shutdown joins the timer thread.
            timer.once(clock.now(), move || ran.store(true, Ordering::Relaxed))
        };
        let canceller = thread::spawn(move || handle.cancel());
        let cancelled = canceller.join().unwrap();
        // Joins the timer thread: a callback that won its firing has returned.
        timer.shutdown();
        // ORDERING: Relaxed. The join in shutdown orders the store before this.
        assert_eq!(ran.load(Ordering::Relaxed), !cancelled);
        assert!(!timer.due_or_firing());
    });
}

/// Advancing a manual clock wakes a timer thread that is waiting for a future
/// deadline, whether it is already waiting or still about to.
#[test]
fn advance_wakes_the_waiting_timer() {
    model(|| {
        let clock = ManualClock::new();
        let timer = Timer::start(&clock);
        let fired = Arc::new(Notify::new());
        let notify = Arc::clone(&fired);
        timer.once(clock.now() + Duration::from_millis(1), move || {
            notify.notify()
        });
        clock.advance(Duration::from_millis(1));
        fired.wait();
        timer.shutdown();
    });
}
