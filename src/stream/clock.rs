//! Time for the time-based stages: the system timer, or a [`ManualClock`] that tests advance by hand.

use crate::sync::{Arc, Mutex};
use crate::{Actor, Context};
use std::fmt;
use std::time::{Duration, Instant};

/// A clock advanced by hand, for tests of time windows, `grouped_within` and
/// throttles without sleeps.
///
/// Give it to a pipeline with [`crate::stream::Source::clock`]; its
/// time-based stages then read their time from it and get their ticks from
/// [`ManualClock::advance`], which delivers every tick that falls due, in
/// time order, before it returns. A tick is a message to the stage, so it is
/// handled after the elements the stage received before it.
///
/// # Examples
///
/// ```
/// use playhouse::stream::ManualClock;
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let t0 = clock.now();
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(clock.now() - t0, Duration::from_secs(60));
/// ```
#[derive(Clone)]
pub struct ManualClock {
    inner: Arc<Manual>,
}

struct Manual {
    base: Instant,
    state: Mutex<ManualState>,
}

#[derive(Default)]
struct ManualState {
    now: Duration,
    next_id: u64,
    tickers: Vec<Ticker>,
}

/// Delivers a tick at the given instant; `false` once its stage is gone.
type Fire = Arc<dyn Fn(Instant) -> bool + Send + Sync>;

struct Ticker {
    id: u64,
    next: Duration,
    period: Duration,
    fire: Fire,
}

impl ManualClock {
    /// A clock standing at the current instant until advanced.
    pub fn new() -> Self {
        ManualClock {
            inner: Arc::new(Manual {
                base: Instant::now(),
                state: Mutex::new(ManualState::default()),
            }),
        }
    }

    /// The clock's time.
    pub fn now(&self) -> Instant {
        self.inner.base + self.inner.state.lock().now
    }

    /// Moves the clock forward by `by`, delivering each tick that falls due on
    /// the way, in time order (the clock reads the tick's time while it is
    /// delivered). Call it from a thread outside the pool: a tick to a full
    /// stage mailbox waits for room.
    pub fn advance(&self, by: Duration) {
        let target = self.inner.state.lock().now + by;
        loop {
            // Take the earliest due ticker's delivery out of the lock: the
            // stage it wakes reads `now` and must not find the lock held.
            let due = {
                let mut st = self.inner.state.lock();
                let Some(t) = st
                    .tickers
                    .iter_mut()
                    .filter(|t| t.next <= target)
                    .min_by_key(|t| (t.next, t.id))
                else {
                    st.now = target;
                    return;
                };
                let at = t.next;
                t.next += t.period;
                let (id, fire) = (t.id, t.fire.clone());
                st.now = st.now.max(at);
                (id, at, fire)
            };
            let (id, at, fire) = due;
            if !fire(self.inner.base + at) {
                self.inner.state.lock().tickers.retain(|t| t.id != id);
            }
        }
    }

    /// How many stage tickers are registered: a time-based stage registers
    /// as it starts, so a test can wait for this before advancing.
    pub fn tickers(&self) -> usize {
        self.inner.state.lock().tickers.len()
    }

    fn register(&self, period: Duration, fire: Fire) {
        let mut st = self.inner.state.lock();
        st.next_id += 1;
        let (id, next) = (st.next_id, st.now + period);
        st.tickers.push(Ticker {
            id,
            next,
            period,
            fire,
        });
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner.state.lock();
        f.debug_struct("ManualClock")
            .field("elapsed", &st.now)
            .field("tickers", &st.tickers.len())
            .finish()
    }
}

/// The clock a pipeline's stages use.
#[derive(Clone, Debug, Default)]
pub(super) enum Clock {
    /// Wall time, ticks from the system timer.
    #[default]
    System,
    /// Hand-advanced time.
    Manual(ManualClock),
}

impl Clock {
    pub(super) fn now(&self) -> Instant {
        match self {
            Clock::System => Instant::now(),
            Clock::Manual(m) => m.now(),
        }
    }

    /// Sends `tick(at)` to the running actor every `period` until it stops.
    pub(super) fn every<A: Actor>(
        &self,
        ctx: &mut Context<A>,
        period: Duration,
        tick: impl Fn(Instant) -> A::Msg + Send + Sync + 'static,
    ) {
        match self {
            Clock::System => {
                if let Err(e) = ctx.schedule_every(period, move || tick(Instant::now())) {
                    log::error!("stream stage timer refused: {e}");
                }
            }
            Clock::Manual(m) => {
                let addr = ctx.addr();
                m.register(
                    period,
                    Arc::new(move |at| match addr.tell(tick(at)) {
                        Ok(()) => true,
                        Err(crate::SendError::WouldBlockWorker(_)) => {
                            log::warn!("ManualClock::advance on a pool worker: a tick to a full stage was skipped");
                            true
                        }
                        Err(_) => false,
                    }),
                );
            }
        }
    }
}
