//! Shutdown of a [`System`], and its report.
//!
//! # Shutdown
//!
//! 1. Intake stops: spawns and sends from outside the pool are refused, timer
//!    messages go to dead letters; actors go on talking to each other.
//! 2. The system waits for quiescence (queued work drains) until the
//!    timeout less the stopping reserve ([`stop_reserve`]).
//! 3. Every root actor is asked to stop; trees stop leaves first (see
//!    `cell/lifecycle.rs`). The system waits (until the timeout) for the
//!    last actor. Actors still alive then are abandoned: their user lanes
//!    close, and what they held goes to dead letters.
//! 4. The timer thread stops and is joined, then the pool's workers: those
//!    running a handler that did not return are not waited for.
//!
//! The result is `Ok` only if every message a mailbox accepted was handled:
//! no message went to dead letters for its actor stopping during the
//! shutdown, no actor was abandoned and no thread was left running. Else the
//! error says how many messages were lost, which actors still had work when
//! the drain ran out of time, which were abandoned, and which were stuck in
//! a handler on which thread (left detached: Rust cannot stop a thread).
//!
//! Shutdown called on one of the system's own workers (a handler calling
//! `shutdown`, or dropping the last share of the `System`) cannot wait there:
//! the caller's own turn is in flight, so step 2 would never finish and the
//! worker could not be joined. On a worker of another system it must not
//! block that worker, which a draining actor may even be waiting on. Either
//! way the same steps then run on a thread of their own, and the call
//! returns at once.

use super::*;

/// How long a shutdown past its deadline still waits for idle workers to
/// exit, when no handler is known to be stuck.
pub(super) const WORKER_EXIT_GRACE: Duration = Duration::from_secs(2);
/// The same, once some handler is known to be stuck: only the other workers
/// are waited for, and an idle one exits as soon as it wakes.
const STUCK_EXIT_GRACE: Duration = Duration::from_millis(20);
/// The most a shutdown keeps back from draining for stopping the actors.
const STOP_RESERVE_MAX: Duration = Duration::from_millis(500);

/// The part of a shutdown's `timeout` kept for stopping the actors (step 3):
/// a fifth, at most [`STOP_RESERVE_MAX`]. Draining gets the rest.
pub(crate) fn stop_reserve(timeout: Duration) -> Duration {
    (timeout / 5).min(STOP_RESERVE_MAX)
}

impl Shared {
    /// Seals the registry and asks every root actor to stop (shutdown step 3):
    /// an actor registering after this stops itself (see `register`).
    pub(super) fn stop_roots(&self) {
        let roots: Vec<Arc<dyn AnyCell>> = {
            let mut reg = self.registry.lock();
            reg.sealed = true;
            reg.cells().filter(|c| c.is_root()).collect()
        };
        for root in roots {
            root.command(Command::Stop(StopReason::Shutdown));
        }
    }

    pub(super) fn await_all_stopped(&self, deadline: Option<Instant>) -> bool {
        #[cfg(not(loom))]
        if let Some(sim) = &self.sim {
            // Stopping may wait on timers (child shutdown timeouts): time
            // jumps to them when nothing else is ready.
            let _ = sim.drive(self, super::sim::Jump::Any, || {
                // ORDERING: as below.
                self.alive.load(Ordering::Acquire) == 0
            });
            return self.alive.load(Ordering::Acquire) == 0;
        }
        // ORDERING: Acquire pairs with the AcqRel decrement in actor_stopped,
        // which notifies under the same lock this is checked under.
        self.quiet
            .wait_for(deadline, || self.alive.load(Ordering::Acquire) == 0)
    }
}

impl System {
    /// Shuts down within the configured timeout (see
    /// [`System::shutdown_timeout`]).
    ///
    /// # Errors
    /// As [`System::shutdown_timeout`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// let system = System::new();
    /// let counter = system.spawn(|| Counter(0))?;
    /// for n in 0..100 {
    ///     counter.tell(Msg::Add(n))?;
    /// }
    /// // Ok: every accepted message was handled before the actors stopped.
    /// system.shutdown()?;
    /// assert!(!counter.is_alive());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown(self) -> Result<(), ShutdownError> {
        let timeout = self.shutdown_timeout;
        self.shutdown_timeout(timeout)
    }

    /// Stops intake, lets queued work drain, stops every actor (children before
    /// parents, running their `stopped` hooks), then stops and joins the timer
    /// and every worker — all within `timeout`.
    ///
    /// # How the time is split
    ///
    /// Draining gets the whole `timeout` less a stopping reserve of a fifth
    /// of it, at most 500 ms (10 s gives 9.5 s to drain). Stopping gets what
    /// is left. Workers not stuck in a handler are then joined; a worker
    /// whose handler never returns is not waited for, so the call returns
    /// within `timeout` and a few milliseconds even then.
    ///
    /// # Truthful result
    ///
    /// `Ok(())` only if every message a mailbox accepted was handled. A
    /// message still queued (or parked) when its actor stopped goes to dead
    /// letters, and the error counts it
    /// ([`dead_letters`](ShutdownError::dead_letters)), names the actors that
    /// still had work when draining ran out of time
    /// ([`busy`](ShutdownError::busy)), those that had not stopped by the
    /// deadline ([`abandoned`](ShutdownError::abandoned)) and those stuck in a
    /// handler, with their threads ([`stuck`](ShutdownError::stuck)). With
    /// `Duration::ZERO` nothing drains: every actor with work is reported.
    ///
    /// # On a worker
    ///
    /// Called on one of the system's own workers (an actor holding the system
    /// shuts it down from a handler), it cannot wait: the caller's own turn
    /// would keep the drain from finishing and its worker from being joined.
    /// Called on a worker of another system, it must not block that worker.
    /// Intake is closed before the call returns; the other steps then run on
    /// a thread of their own, which waits for a calling handler of this
    /// system to return, and the call returns at once. Dropping the `System`
    /// there does the same.
    ///
    /// # Errors
    /// [`ShutdownError`] as above; everything not named there was stopped
    /// and joined. On a pool worker, at once, a [`ShutdownError`] whose
    /// [`continues_in_background`](ShutdownError::continues_in_background) is
    /// true: the outcome is logged by the shutdown's thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, SpawnOptions, System};
    /// use std::time::Duration;
    ///
    /// /// Always has one more message for itself: it never drains.
    /// struct Poller;
    /// impl Actor for Poller {
    ///     type Msg = ();
    ///     fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
    ///         ctx.send(&ctx.addr(), ())?;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let poller = system.spawn_with(SpawnOptions::new().name("poller"), || Poller)?;
    /// poller.tell(())?;
    /// let err = system.shutdown_timeout(Duration::from_millis(50)).unwrap_err();
    /// assert_eq!(err.busy(), ["poller"]); // still had work when draining ended
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown_timeout(self, timeout: Duration) -> Result<(), ShutdownError> {
        self.stop_all(timeout)
    }

    pub(super) fn stop_all(&self, timeout: Duration) -> Result<(), ShutdownError> {
        // ORDERING: Relaxed; `done` only keeps Drop from shutting down twice on
        // the same thread.
        if self.done.swap(true, Ordering::Relaxed) {
            return Ok(());
        }
        if self.shared.on_own_thread() {
            return Err(self.stop_in_background(timeout, false));
        }
        if crate::pool::on_worker_thread() {
            return Err(self.stop_in_background(timeout, true));
        }
        stop_now(&self.shared, &self.pool, timeout)
    }

    /// Shutdown called on a pool worker. On one of the system's own, the
    /// caller's turn is in flight, so waiting here could only fail, blocking
    /// the worker until the deadline; on another system's (`other_system`),
    /// waiting would block that worker for as long as the drain takes, and
    /// for ever if a draining actor waits on that system. The steps run on a
    /// thread of their own instead, which also joins this system's worker
    /// once the turn is over.
    fn stop_in_background(&self, timeout: Duration, other_system: bool) -> ShutdownError {
        // Intake closes before the call returns, not when the thread starts.
        // ORDERING: Release pairs with the Acquire in `is_closing`.
        self.shared.closing.store(true, Ordering::Release);
        let err = ShutdownError {
            background: true,
            other_system,
            ..ShutdownError::empty(timeout)
        };
        log::warn!("{err}");
        let shared = Arc::clone(&self.shared);
        let pool = Arc::clone(&self.pool);
        let builder = thread::Builder::new().name(format!("{}-shutdown", self.name));
        let spawned = if shutdown_thread_refused(&self.name) {
            Err(std::io::Error::other("refused by a test"))
        } else {
            builder.spawn(move || {
                let stopped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    stop_now(&shared, &pool, timeout)
                }));
                match stopped {
                    Ok(Ok(())) => log::info!("playhouse: shutdown finished on its own thread"),
                    // Logged by `stop_now`.
                    Ok(Err(_)) => {}
                    Err(p) => log::error!(
                        "playhouse: the shutdown thread panicked: {}",
                        crate::panic::panic_message(&*p)
                    ),
                }
            })
        };
        if let Err(e) = spawned {
            log::error!(
                "shutdown: its thread did not start ({e}); actors are asked to stop \
                 and workers exit when done, but nothing waits for them"
            );
            stop_without_waiting(&self.shared, &self.pool);
        }
        err
    }
}

/// Whether a test refused the shutdown thread of the system named `name`, to
/// reach the fallback that waits for nothing.
#[cfg(all(test, not(loom)))]
fn shutdown_thread_refused(name: &str) -> bool {
    tests::REFUSED_SHUTDOWN_THREADS
        .lock()
        .unwrap()
        .iter()
        .any(|n| n == name)
}

#[cfg(not(all(test, not(loom))))]
#[inline(always)]
fn shutdown_thread_refused(_: &str) -> bool {
    false
}

/// Shutdown's steps (module docs), on a thread that is not one of the pool's.
fn stop_now(s: &Shared, pool: &ThreadPool, timeout: Duration) -> Result<(), ShutdownError> {
    let start = Instant::now();
    let deadline = start.checked_add(timeout);
    // ORDERING: Release pairs with the Acquire in `is_closing`.
    s.closing.store(true, Ordering::Release);
    // ORDERING: Relaxed; a count read again below, after every worker that
    // could add to it was joined (or is stuck, and adds nothing).
    let lost_before = s.lost.load(Ordering::Relaxed);
    // Draining stops short of the deadline by what stopping needs, so an
    // actor that never runs out of work (a poller posting to itself) still
    // leaves time to stop everything.
    let mut busy = Vec::new();
    if let Err(e) = s.await_quiescent(start.checked_add(timeout - stop_reserve(timeout))) {
        busy = s
            .registry
            .lock()
            .cells()
            // The scheduling state, not a length and a worker read apart:
            // an actor posting to itself is between the two at every turn.
            .filter(|c| c.scheduled() || c.queued() > 0)
            .map(|c| c.label())
            .collect();
        log::warn!("shutdown: {e}; stopping actors anyway");
    }
    s.stop_roots();
    let all_stopped = s.await_all_stopped(deadline);
    let mut abandoned = Vec::new();
    let mut stuck = Vec::new();
    if !all_stopped {
        let left: Vec<Arc<dyn AnyCell>> = s.registry.lock().cells().collect();
        // Nothing more goes in: blocked senders get their messages back and
        // queued ones go to dead letters, even though a handler is stuck.
        for cell in &left {
            cell.abandon();
        }
        // Actors not registered yet (their first turn is still queued
        // behind the stuck handlers) are found through the queues.
        pool.abandon_queued();
        #[cfg(not(loom))]
        if let Some(sim) = &s.sim {
            sim.abandon();
        }
        for c in &left {
            abandoned.push(c.label());
            if let Some(w) = c.running_on() {
                let worker = match c.thread_name() {
                    Some(name) => name,
                    None => pool.worker_name(w),
                };
                stuck.push(StuckActor {
                    actor: c.label(),
                    worker,
                });
            }
        }
    }
    s.timer.shutdown();
    // Workers with no stuck handler exit as soon as they wake; give them a
    // moment even when the deadline has passed, so only stuck ones are left.
    // A worker known to be stuck is not waited for.
    let left = deadline.map_or(Duration::MAX, |d| {
        d.saturating_duration_since(Instant::now())
    });
    let grace = if stuck.is_empty() {
        WORKER_EXIT_GRACE
    } else {
        STUCK_EXIT_GRACE
    };
    let until = Instant::now().checked_add(left.max(grace));
    let workers = pool.terminate(left.max(grace));
    // Dedicated threads end with their actors; any left (an abandoned actor
    // whose turn never came) end once closed. One stuck in a handler is not
    // waited for past the deadline.
    let runners = std::mem::take(&mut *s.runners.lock());
    for r in &runners {
        r.runner.close();
    }
    for r in runners {
        if r.runner.wait_exited(until) {
            if r.thread.join().is_err() {
                log::error!("playhouse: dedicated thread {} panicked", r.name);
            }
        } else if !stuck.iter().any(|s| s.worker == r.name) {
            stuck.push(StuckActor {
                actor: "(unknown)".into(),
                worker: r.name,
            });
        }
    }
    if let Err(names) = workers {
        let some_stuck = !stuck.is_empty();
        for w in names {
            if stuck.iter().any(|s| s.worker == w) {
                continue;
            }
            if some_stuck {
                // The grace was the short one, and this worker was in no turn
                // of the actors left when they were abandoned: it is idle or
                // between tasks, and exits the next time it runs. A loaded
                // machine can keep a thread from running for longer than
                // the grace; that is no stuck handler, so it is not
                // reported as one.
                log::debug!("shutdown: worker {w} has not exited yet; it runs no actor's turn");
            } else {
                stuck.push(StuckActor {
                    actor: "(unknown)".into(),
                    worker: w,
                });
            }
        }
    }
    // ORDERING: Relaxed, as above.
    let dead_letters = s.lost.load(Ordering::Relaxed) - lost_before;
    if stuck.is_empty() && abandoned.is_empty() && dead_letters == 0 {
        if !busy.is_empty() {
            log::info!("shutdown: the actors busy at the drain's end finished their work");
        }
        return Ok(());
    }
    let err = ShutdownError {
        stuck,
        busy,
        abandoned,
        dead_letters,
        ..ShutdownError::empty(timeout)
    };
    log::error!("{err}");
    Err(err)
}

/// Shutdown's steps without the waits, for when no thread can wait for them.
/// The timer is left running: stopping actors may need it (a parent's
/// timeout for a slow child); it stops when the last holder (an actor, or a
/// timer entry waiting for its deadline) lets go of the
/// system's state.
fn stop_without_waiting(s: &Shared, pool: &ThreadPool) {
    // ORDERING: Release pairs with the Acquire in `is_closing`.
    s.closing.store(true, Ordering::Release);
    s.stop_roots();
    // Joins nothing: every worker is left to exit once its work is done.
    let _ = pool.terminate(Duration::ZERO);
}

impl Drop for System {
    fn drop(&mut self) {
        let _ = self.stop_all(self.shutdown_timeout);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::System;
    use crate::{Actor, ActorError, Context, SendError, ShutdownError};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// Systems whose shutdown thread `stop_in_background` must fail to start.
    pub(super) static REFUSED_SHUTDOWN_THREADS: Mutex<Vec<String>> = Mutex::new(Vec::new());

    const LIMIT: Duration = Duration::from_secs(30);

    /// Shuts its own system down in a handler and reports what the call returned.
    struct ShutsDown {
        system: Arc<Mutex<Option<System>>>,
        out: crossbeam_channel::Sender<Result<(), ShutdownError>>,
    }

    impl Actor for ShutsDown {
        type Msg = ();
        fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
            let system = self.system.lock().unwrap().take().expect("one message");
            self.out.send(system.shutdown())?;
            Ok(())
        }
    }

    /// Says when it has stopped.
    struct Stops(crossbeam_channel::Sender<()>);

    impl Actor for Stops {
        type Msg = ();
        fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
            Ok(())
        }
        fn stopped(&mut self, _: &mut Context<Self>) {
            let _ = self.0.send(());
        }
    }

    fn threads_named(prefix: &str) -> usize {
        std::fs::read_dir("/proc/self/task")
            .map(|dir| {
                dir.filter_map(|e| e.ok())
                    .filter_map(|e| std::fs::read_to_string(e.path().join("comm")).ok())
                    .filter(|n| n.starts_with(prefix))
                    .count()
            })
            .unwrap_or(0)
    }

    /// With no thread to go on on, a shutdown called inside a handler still
    /// stops every actor and lets every worker exit; it only waits for none.
    #[test]
    fn shutdown_whose_thread_cannot_start_still_stops_everything() {
        let name = "sdFB";
        REFUSED_SHUTDOWN_THREADS.lock().unwrap().push(name.into());
        let system = System::builder().workers(1).name(name).build().unwrap();
        let (stopped_tx, stopped) = crossbeam_channel::bounded(1);
        let other = system.spawn(move || Stops(stopped_tx.clone())).unwrap();
        let slot = Arc::new(Mutex::new(None));
        let (out, answer) = crossbeam_channel::bounded(1);
        let share = slot.clone();
        let stopper = system
            .spawn(move || ShutsDown {
                system: share.clone(),
                out: out.clone(),
            })
            .unwrap();
        *slot.lock().unwrap() = Some(system);
        stopper.tell(()).unwrap();
        let err = answer
            .recv_timeout(LIMIT)
            .expect("the handler returned")
            .expect_err("a shutdown that cannot wait does not report success");
        assert!(err.continues_in_background(), "{err}");
        stopped
            .recv_timeout(LIMIT)
            .expect("the other actor was asked to stop, and stopped");
        assert_eq!(other.tell(()), Err(SendError::Closed(())));
        // The timer stays until the last holder of the system's state lets
        // go (stopping actors may need it): here, the addresses.
        drop((other, stopper, slot));
        let deadline = std::time::Instant::now() + LIMIT;
        while threads_named(&format!("{name}-")) > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the worker and the timer exit on their own"
            );
            // Polls a condition the runtime gives no signal for.
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            threads_named(&format!("{name}-shutdown")),
            0,
            "no shutdown thread ran"
        );
    }
}
