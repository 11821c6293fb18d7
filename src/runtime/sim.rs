//! The scheduler of a simulated system: every actor runs on the thread that
//! drives the simulation, one turn per step, in an order drawn from a seeded
//! generator, so one seed gives one interleaving, every time.
//!
//! # A step
//!
//! 1. Everything queued (staged starts, the injector, worker 0's queue) moves
//!    onto the pool's ready list (`pool::sim`).
//! 2. If a timer entry is due, it fires (inline, on this thread) when nothing
//!    is ready, or else with probability 1/4: so a timeout or a tick lands at
//!    a seeded point among the turns that were ready when it came due.
//! 3. Otherwise a ready task drawn uniformly runs as worker 0; an actor's
//!    turn takes at most a number of messages drawn from 1 to its
//!    throughput, so batching varies too.
//! 4. With nothing ready and nothing due, time jumps to the next deadline if
//!    the caller allows it ([`Jump`]); else the step reports idle.
//!
//! Steps record a bounded trace (turns with the actor and the messages it
//! took, timer firings with the simulated time), which a failing seed prints.
//!
//! # Where a thread would block
//!
//! Nothing in the simulation blocks. A blocking call from the driving thread
//! (an ask, a tell into a full mailbox, quiescence, shutdown) drives steps
//! until it can go on; if the simulation runs out of steps first it fails
//! with its typed error instead of hanging. A call from inside a step (a
//! handler, a timer callback) that would drive steps is not re-entered: it
//! sees the simulation as stalled.

use crate::pool::sim::{Ran, SimRunner};
use crate::sync::Mutex;
use crate::timer::ManualClock;
use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use super::Shared;

/// Steps kept in the trace.
pub(crate) const TRACE_KEPT: usize = 64;

/// The most steps one drive runs before it gives up (a livelock, or a
/// periodic timer that never lets the simulation go idle).
pub(crate) const MAX_STEPS: u64 = 1_000_000;

/// Whether a step may move the clock to the next deadline when nothing else
/// is left to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Jump {
    /// Time stands still: only entries already due fire.
    No,
    /// To deadlines at or before this instant.
    Until(Instant),
    /// To any deadline.
    Any,
}

/// One step, as the trace records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    /// An actor's turn (or a job): who ran and how many messages it took.
    Turn { actor: Ran, messages: u64 },
    /// Timer entries fired, at this simulated time since the start.
    Timers { fired: usize, at: Duration },
}

/// What a step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stepped {
    /// A task ran or timers fired.
    Ran,
    /// Nothing was ready, nothing due (and no jump allowed or possible).
    Idle,
}

/// A drive ran [`MAX_STEPS`] steps, or the simulation went idle, before its
/// condition held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stalled;

/// The scheduler's state; see the module docs.
pub(crate) struct Sim {
    state: Mutex<State>,
    clock: ManualClock,
    start: Instant,
}

struct State {
    /// Lent out while a step runs (`None`: a step is running; a nested
    /// drive finds the simulation stalled rather than re-entering it).
    runner: Option<SimRunner>,
    rng: SplitMix,
    steps: u64,
    trace: VecDeque<(u64, Event)>,
}

impl Sim {
    pub(crate) fn new(seed: u64, runner: SimRunner, clock: ManualClock) -> Self {
        let start = clock.now();
        Sim {
            state: Mutex::new(State {
                runner: Some(runner),
                rng: SplitMix(seed),
                steps: 0,
                trace: VecDeque::with_capacity(TRACE_KEPT),
            }),
            clock,
            start,
        }
    }

    /// The simulation's clock.
    pub(crate) fn clock(&self) -> &ManualClock {
        &self.clock
    }

    /// Steps run so far.
    pub(crate) fn steps(&self) -> u64 {
        self.state.lock().steps
    }

    /// The last [`TRACE_KEPT`] steps, oldest first, with their step numbers.
    pub(crate) fn trace(&self) -> Vec<(u64, Event)> {
        self.state.lock().trace.iter().cloned().collect()
    }

    /// One step (module docs, "A step").
    pub(crate) fn step(&self, shared: &Shared, jump: Jump) -> Stepped {
        let mut st = self.state.lock();
        let Some(mut runner) = st.runner.take() else {
            return Stepped::Idle;
        };
        let ready = runner.collect(&shared.pool);
        let due = shared.timer.due_or_firing();
        let event = if due && (ready == 0 || st.rng.below(4) == 0) {
            drop(st);
            let fired = shared.timer.fire_due();
            st = self.state.lock();
            Some(self.timers(fired))
        } else if ready > 0 {
            let pick = st.rng.below(ready);
            let draw = st.rng.next();
            drop(st);
            let before = shared.quiet.messages();
            let actor = runner.run(&shared.pool, pick, draw);
            st = self.state.lock();
            Some(Event::Turn {
                actor,
                messages: shared.quiet.messages() - before,
            })
        } else {
            match (shared.timer.next_deadline(), jump) {
                (Some(at), Jump::Any) => Some(self.jump_to(shared, at)),
                (Some(at), Jump::Until(limit)) if at <= limit => Some(self.jump_to(shared, at)),
                _ => None,
            }
        };
        st.runner = Some(runner);
        let Some(event) = event else {
            return Stepped::Idle;
        };
        st.steps += 1;
        if st.trace.len() == TRACE_KEPT {
            st.trace.pop_front();
        }
        let n = st.steps;
        st.trace.push_back((n, event));
        Stepped::Ran
    }

    /// Moves the clock to `at` and fires what is due then.
    fn jump_to(&self, shared: &Shared, at: Instant) -> Event {
        let now = self.clock.now();
        if at > now {
            self.clock.advance(at - now);
        }
        let fired = shared.timer.fire_due();
        self.timers(fired)
    }

    fn timers(&self, fired: usize) -> Event {
        Event::Timers {
            fired,
            at: self.clock.now().saturating_duration_since(self.start),
        }
    }

    /// Runs steps until `done` holds (checked before each step), the
    /// simulation goes idle, or [`MAX_STEPS`] steps have run.
    ///
    /// # Errors
    /// [`Stalled`] if `done` never held.
    pub(crate) fn drive(
        &self,
        shared: &Shared,
        jump: Jump,
        mut done: impl FnMut() -> bool,
    ) -> Result<(), Stalled> {
        for _ in 0..MAX_STEPS {
            if done() {
                return Ok(());
            }
            if self.step(shared, jump) == Stepped::Idle {
                return if done() { Ok(()) } else { Err(Stalled) };
            }
        }
        if done() { Ok(()) } else { Err(Stalled) }
    }

    /// Drops every task still ready (a simulated system being given up on).
    pub(crate) fn abandon(&self) {
        if let Some(runner) = self.state.lock().runner.as_mut() {
            runner.abandon();
        }
    }
}

impl fmt::Debug for Sim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sim").finish_non_exhaustive()
    }
}

/// SplitMix64 (Steele, Lea, Flood): a tiny, well-mixed generator whose whole
/// state is the seed, so any `u64` (zero too) is a good seed.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`; `n` must not be zero.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
