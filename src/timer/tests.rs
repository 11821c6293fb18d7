//! Unit tests of the timer thread, on a manual clock.

use super::*;
use crossbeam_channel::{Receiver, TryRecvError, unbounded};
use std::sync::Arc;

const BOUND: Duration = Duration::from_secs(5);
const MS: Duration = Duration::from_millis(1);

fn manual(name: &str) -> (Arc<ManualClock>, Timer) {
    let clock = Arc::new(ManualClock::new());
    let timer = Timer::start_with_clock(name.to_owned(), clock.clone()).expect("thread starts");
    (clock, timer)
}

/// Waits (bounded) until `cond` holds, for "eventually" checks only.
fn wait_until(mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + BOUND;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::yield_now();
    }
    cond()
}

fn recv<T>(rx: &Receiver<T>) -> T {
    rx.recv_timeout(BOUND)
        .expect("the timer fires within the bound")
}

/// Sends on a channel when dropped.
struct DropGuard(crossbeam_channel::Sender<&'static str>, &'static str);
impl Drop for DropGuard {
    fn drop(&mut self) {
        let _ = self.0.send(self.1);
    }
}

#[test]
fn entries_fire_in_deadline_order() {
    let (clock, timer) = manual("t-order");
    let (tx, rx) = unbounded();
    let t0 = clock.now();
    for i in [3u32, 1, 2] {
        let tx = tx.clone();
        timer.once(t0 + i * MS, move || tx.send(i).unwrap());
    }
    assert_eq!(timer.next_deadline(), Some(t0 + MS));
    clock.advance(3 * MS);
    assert_eq!([recv(&rx), recv(&rx), recv(&rx)], [1, 2, 3]);
}

#[test]
fn equal_deadlines_fire_in_insertion_order() {
    let (clock, timer) = manual("t-ties");
    let (tx, rx) = unbounded();
    let at = clock.now() + MS;
    for i in 0..8 {
        let tx = tx.clone();
        timer.once(at, move || tx.send(i).unwrap());
    }
    clock.advance(MS);
    let got: Vec<i32> = (0..8).map(|_| recv(&rx)).collect();
    assert_eq!(got, (0..8).collect::<Vec<_>>());
}

#[test]
fn once_in_the_past_fires_at_once() {
    let (clock, timer) = manual("t-past");
    let past = clock.now();
    clock.advance(Duration::from_secs(10));
    let (tx, rx) = unbounded();
    timer.once(past, move || tx.send(()).unwrap());
    // No advance after scheduling: only the push's notification wakes it.
    assert_eq!(rx.recv_timeout(BOUND), Ok(()));
}

#[test]
fn system_clock_fires_after_the_deadline() {
    let timer = Timer::start("t-system".to_owned()).expect("thread starts");
    let (tx, rx) = unbounded();
    let at = Instant::now() + 20 * MS;
    timer.once(at, move || tx.send(Instant::now()).unwrap());
    let fired = recv(&rx);
    assert!(fired >= at, "fired {:?} early", at - fired);
}

#[test]
fn cancel_before_firing_prevents_it() {
    let (clock, timer) = manual("t-cancel");
    let (tx, rx) = unbounded();
    let at = clock.now() + MS;
    let tx2 = tx.clone();
    let handle = timer.once(at, move || tx2.send("cancelled one").unwrap());
    // Scheduled later at the same deadline: fires after the cancelled one
    // would have.
    timer.once(at, move || tx.send("sentinel").unwrap());
    assert!(!handle.is_cancelled());
    assert!(handle.cancel());
    assert!(handle.is_cancelled());
    assert!(!handle.cancel(), "a second cancel prevents nothing");
    clock.advance(MS);
    assert_eq!(recv(&rx), "sentinel");
    // Empty, or Disconnected once the sentinel's closure is dropped.
    assert!(rx.try_recv().is_err(), "the cancelled entry fired");
}

#[test]
fn cancel_after_firing_returns_false() {
    let (clock, timer) = manual("t-cancel-late");
    let (tx, rx) = unbounded();
    let handle = timer.once(clock.now(), move || tx.send(()).unwrap());
    recv(&rx);
    assert!(!handle.cancel());
    assert!(handle.is_cancelled(), "cancel was called");
}

#[test]
fn every_fires_once_per_period_and_stops_after_cancel() {
    let (clock, timer) = manual("t-every");
    let (tx, rx) = unbounded();
    let period = 10 * MS;
    let t0 = clock.now();
    let mut n = 0;
    let handle = timer.every(t0 + period, period, move || {
        n += 1;
        tx.send(n).unwrap();
    });
    for k in 1..=4 {
        clock.advance(period);
        assert_eq!(recv(&rx), k);
        // Re-armed one period on (checked once the firing settled).
        assert!(wait_until(
            || timer.next_deadline() == Some(t0 + (k + 1) * period)
        ));
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(handle.cancel());
    assert_eq!(
        timer.next_deadline(),
        None,
        "the cancelled entry is skipped"
    );
    let (stx, srx) = unbounded();
    timer.once(t0 + 5 * period + MS, move || stx.send(()).unwrap());
    clock.advance(period + MS);
    recv(&srx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert!(!handle.cancel());
}

#[test]
fn periodic_entry_skips_missed_periods_without_burst() {
    let (clock, timer) = manual("t-burst");
    let (tx, rx) = unbounded();
    let period = 10 * MS;
    let t0 = clock.now();
    timer.every(t0 + period, period, move || tx.send(()).unwrap());
    clock.advance(5 * period);
    recv(&rx);
    // Next is the first multiple after now (t0 + 5p), not a replay of 2p..5p.
    assert!(wait_until(|| timer.next_deadline() == Some(t0 + 6 * period)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn next_fixed_rate_keeps_rate_and_skips_only_whole_missed_periods() {
    let t0 = Instant::now();
    let p = 10 * MS;
    // On time or less than a period late: previous + period (fixed rate).
    assert_eq!(next_fixed_rate(t0, p, t0), Some(t0 + p));
    assert_eq!(next_fixed_rate(t0, p, t0 + 15 * MS), Some(t0 + p));
    assert_eq!(next_fixed_rate(t0, p, t0 + 20 * MS), Some(t0 + p));
    // More than a period behind: the first multiple after now.
    assert_eq!(next_fixed_rate(t0, p, t0 + 25 * MS), Some(t0 + 30 * MS));
    assert_eq!(next_fixed_rate(t0, p, t0 + 30 * MS), Some(t0 + 40 * MS));
    assert_eq!(next_fixed_rate(t0, p, t0 + 1001 * MS), Some(t0 + 1010 * MS));
}

#[test]
fn a_callback_can_schedule_another_entry() {
    let (clock, timer) = manual("t-nested");
    let timer = Arc::new(timer);
    let (tx, rx) = unbounded();
    let inner = Arc::clone(&timer);
    let at = clock.now();
    timer.once(at, move || {
        let tx2 = tx.clone();
        inner.once(at, move || tx2.send("inner").unwrap());
        tx.send("outer").unwrap();
    });
    assert_eq!(recv(&rx), "outer");
    assert_eq!(recv(&rx), "inner");
    timer.shutdown();
}

#[test]
fn a_panicking_callback_does_not_kill_the_thread() {
    let (clock, timer) = manual("t-panic");
    let (tx, rx) = unbounded();
    let at = clock.now() + MS;
    timer.once(at, || panic!("boom (expected by the test)"));
    let ptx = tx.clone();
    let mut n = 0;
    let periodic = timer.every(at, MS, move || {
        n += 1;
        ptx.send(n).unwrap();
        if n == 2 {
            panic!("periodic boom (expected by the test)");
        }
    });
    clock.advance(MS);
    assert_eq!(recv(&rx), 1, "fired after the panicking one-shot");
    clock.advance(MS);
    assert_eq!(recv(&rx), 2);
    // Scheduled now, so it fires in a later batch than the panicking
    // periodic firing, which is settled by then.
    timer.once(clock.now(), move || tx.send(100).unwrap());
    assert_eq!(recv(&rx), 100);
    assert!(
        !periodic.cancel(),
        "the panicking periodic entry was dropped"
    );
    assert_eq!(timer.next_deadline(), None);
}

#[test]
fn due_or_firing_while_a_callback_runs() {
    let (clock, timer) = manual("t-firing");
    let (started_tx, started_rx) = unbounded();
    let (release_tx, release_rx) = unbounded::<()>();
    assert!(!timer.due_or_firing());
    timer.once(clock.now() + MS, move || {
        started_tx.send(()).unwrap();
        release_rx.recv().unwrap();
    });
    assert!(!timer.due_or_firing(), "not due yet");
    clock.advance(MS);
    recv(&started_rx);
    assert!(timer.due_or_firing(), "callback is running");
    release_tx.send(()).unwrap();
    assert!(wait_until(|| !timer.due_or_firing()));
}

/// A manual clock that does not wake the timer when it moves.
struct SilentClock(std::sync::Mutex<Instant>);
impl Clock for SilentClock {
    fn now(&self) -> Instant {
        *self.0.lock().unwrap()
    }
    fn sleep_until(&self, _: Instant) -> Option<Duration> {
        None
    }
}

#[test]
fn due_but_not_fired_counts_and_poke_fires_it() {
    let clock = Arc::new(SilentClock(std::sync::Mutex::new(Instant::now())));
    let timer = Timer::start_with_clock("t-due".to_owned(), clock.clone()).unwrap();
    let (tx, rx) = unbounded();
    let at = clock.now() + MS;
    let cancelled = timer.once(at, || {});
    timer.once(at + MS, move || tx.send(()).unwrap());
    *clock.0.lock().unwrap() += MS;
    assert!(cancelled.cancel());
    assert!(
        !timer.due_or_firing(),
        "a cancelled due entry does not count"
    );
    *clock.0.lock().unwrap() += MS;
    assert!(timer.due_or_firing(), "deadline passed, not fired");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    timer.poke();
    recv(&rx);
}

#[test]
fn shutdown_joins_the_thread_and_drops_unfired_entries() {
    let (clock, timer) = manual("t-shutdown");
    let (tx, rx) = unbounded();
    let (name_tx, name_rx) = unbounded();
    // A thread-local on the timer thread whose destructor reports the
    // thread's exit: it runs before join returns.
    thread_local! {
        static EXIT: std::cell::RefCell<Option<DropGuard>> =
            const { std::cell::RefCell::new(None) };
    }
    let exit_tx = tx.clone();
    timer.once(clock.now(), move || {
        name_tx
            .send(std::thread::current().name().map(str::to_owned))
            .unwrap();
        EXIT.with(|e| *e.borrow_mut() = Some(DropGuard(exit_tx, "thread exited")));
    });
    assert_eq!(recv(&name_rx).as_deref(), Some("t-shutdown"));
    let captured = Arc::new(());
    let c1 = Arc::clone(&captured);
    let far = timer.once(clock.now() + Duration::from_secs(60), move || drop(c1));
    let guard = DropGuard(tx.clone(), "entry dropped");
    timer.every(clock.now() + MS * 5, MS, move || {
        let _ = &guard;
    });
    assert_eq!(Arc::strong_count(&captured), 2);
    timer.shutdown();
    // Joined: the thread is gone, so its thread-local was destroyed.
    let mut events = vec![rx.try_recv().unwrap(), rx.try_recv().unwrap()];
    events.sort();
    assert_eq!(events, ["entry dropped", "thread exited"]);
    assert!(timer.join.lock().is_none(), "the JoinHandle was joined");
    assert_eq!(Arc::strong_count(&captured), 1, "unfired entry dropped");
    assert!(!far.cancel(), "a dropped entry has nothing left to prevent");
    timer.shutdown();
    let late = timer.once(clock.now(), || {});
    assert!(!late.cancel(), "scheduled after shutdown: dropped at once");
}

#[test]
fn shutdown_from_a_callback_only_signals() {
    let (clock, timer) = manual("t-self-shutdown");
    let timer = Arc::new(timer);
    let (tx, rx) = unbounded();
    let inner = Arc::clone(&timer);
    timer.once(clock.now(), move || {
        inner.shutdown();
        tx.send(()).unwrap();
    });
    recv(&rx);
    timer.shutdown();
    assert!(timer.join.lock().is_none(), "joined by the outside call");
}

#[test]
fn dropping_the_timer_shuts_it_down() {
    let (clock, timer) = manual("t-drop");
    let (tx, rx) = unbounded();
    let guard = DropGuard(tx, "dropped");
    timer.once(clock.now() + MS, move || drop(guard));
    drop(timer);
    assert_eq!(rx.try_recv(), Ok("dropped"));
    // The clock's waker now finds no timer.
    clock.advance(MS);
}

#[test]
fn cancelled_entries_are_purged_when_they_pile_up() {
    let (clock, timer) = manual("t-purge");
    let captured = Arc::new(());
    let far = clock.now() + Duration::from_secs(60);
    let handles: Vec<TimerHandle> = (0..100)
        .map(|_| {
            let c = Arc::clone(&captured);
            timer.once(far, move || drop(c))
        })
        .collect();
    for h in &handles[..60] {
        assert!(h.cancel());
    }
    assert_eq!(Arc::strong_count(&captured), 101);
    timer.once(far, || {});
    assert_eq!(timer.shared.state.lock().heap.len(), 41);
    assert_eq!(Arc::strong_count(&captured), 41);
}

#[test]
fn entries_cancelled_in_deadline_order_keep_the_heap_small() {
    // The shape of answered asks: each entry is cancelled before the next,
    // later one is pushed; each push takes the cancelled top off.
    let (clock, timer) = manual("t-asks");
    let far = clock.now() + Duration::from_secs(60);
    for i in 0..1_000 {
        let h = timer.once(far + i * MS, || {});
        assert!(h.cancel());
    }
    assert!(timer.shared.state.lock().heap.len() <= 2);
}

#[test]
fn a_new_earliest_entry_wakes_the_thread_only_when_it_waits_too_long() {
    let now = Instant::now();
    let mut state = State {
        heap: BinaryHeap::new(),
        next_seq: 0,
        firing: 0,
        shutdown: false,
        thread: ThreadWait::Awake,
    };
    assert!(!state.must_wake_for(now), "an awake thread looks again");
    state.thread = ThreadWait::Until(now + MS);
    assert!(state.must_wake_for(now));
    assert!(!state.must_wake_for(now + MS));
    assert!(!state.must_wake_for(now + 2 * MS));
    state.thread = ThreadWait::Indefinitely;
    assert!(state.must_wake_for(now + 2 * MS));
}

#[test]
fn an_earlier_entry_wakes_a_thread_waiting_for_a_later_one() {
    let timer = Timer::start("t-earlier".to_owned()).expect("thread starts");
    let far = Instant::now() + Duration::from_secs(60);
    let _late = timer.once(far, || {});
    assert!(wait_until(
        || timer.shared.state.lock().thread == ThreadWait::Until(far)
    ));
    let (tx, rx) = unbounded();
    timer.once(Instant::now() + MS, move || {
        tx.send(()).expect("test waits")
    });
    recv(&rx);
}
