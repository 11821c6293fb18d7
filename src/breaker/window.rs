//! Sliding windows of call outcomes (count-based and time-based) that the
//! rate rules read.
//!
//! # Invariants
//! - `calls`, `failures` and `slow` are the sums over the outcomes the window
//!   holds now, kept up to date on every record and eviction, so reading a
//!   rate costs nothing.
//! - The time window keeps buckets of `span / BUCKETS` each, oldest first, and
//!   drops a bucket once `span` has passed since it began; an outcome thus
//!   stays counted for between `span - span / BUCKETS` and `span`.

use super::config::Window;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Buckets in a time window: the granularity of its eviction.
const BUCKETS: u32 = 10;

/// One call's outcome as a window counts it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Sample {
    pub(super) failed: bool,
    pub(super) slow: bool,
}

#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Totals {
    calls: u32,
    failures: u32,
    slow: u32,
}

impl Totals {
    fn add(&mut self, s: Sample) {
        self.calls += 1;
        self.failures += u32::from(s.failed);
        self.slow += u32::from(s.slow);
    }
    fn sub(&mut self, t: Totals) {
        self.calls -= t.calls;
        self.failures -= t.failures;
        self.slow -= t.slow;
    }
}

/// The outcomes of the last `n` calls or of the last span of time.
#[derive(Debug)]
pub(super) enum SlidingWindow {
    Count {
        ring: VecDeque<Sample>,
        size: usize,
        totals: Totals,
    },
    Time {
        buckets: VecDeque<(Instant, Totals)>,
        span: Duration,
        width: Duration,
        totals: Totals,
    },
}

impl SlidingWindow {
    pub(super) fn new(window: Window) -> Self {
        match window {
            Window::Count(n) => SlidingWindow::Count {
                ring: VecDeque::new(),
                size: n as usize,
                totals: Totals::default(),
            },
            Window::Time(span) => SlidingWindow::Time {
                buckets: VecDeque::new(),
                span,
                width: (span / BUCKETS).max(Duration::from_nanos(1)),
                totals: Totals::default(),
            },
        }
    }

    /// Counts one outcome that ended at `now`.
    pub(super) fn record(&mut self, sample: Sample, now: Instant) {
        self.evict(now);
        match self {
            SlidingWindow::Count { ring, size, totals } => {
                if ring.len() == *size {
                    let old = ring.pop_front().expect("a full ring has a front");
                    let mut t = Totals::default();
                    t.add(old);
                    totals.sub(t);
                }
                ring.push_back(sample);
                totals.add(sample);
            }
            SlidingWindow::Time {
                buckets,
                width,
                totals,
                ..
            } => {
                match buckets.back_mut() {
                    Some((start, t)) if now < *start + *width => t.add(sample),
                    _ => {
                        let mut t = Totals::default();
                        t.add(sample);
                        buckets.push_back((now, t));
                    }
                }
                totals.add(sample);
            }
        }
    }

    /// Drops the time window's buckets that have slid out by `now`.
    pub(super) fn evict(&mut self, now: Instant) {
        if let SlidingWindow::Time {
            buckets,
            span,
            totals,
            ..
        } = self
        {
            while let Some((start, t)) = buckets.front() {
                if now.saturating_duration_since(*start) >= *span {
                    totals.sub(*t);
                    buckets.pop_front();
                } else {
                    break;
                }
            }
        }
    }

    /// Empties the window (the breaker closed after a probe, or opened).
    pub(super) fn clear(&mut self) {
        match self {
            SlidingWindow::Count { ring, totals, .. } => {
                ring.clear();
                *totals = Totals::default();
            }
            SlidingWindow::Time {
                buckets, totals, ..
            } => {
                buckets.clear();
                *totals = Totals::default();
            }
        }
    }

    fn totals(&self) -> Totals {
        match self {
            SlidingWindow::Count { totals, .. } | SlidingWindow::Time { totals, .. } => *totals,
        }
    }

    /// Outcomes in the window.
    pub(super) fn calls(&self) -> u32 {
        self.totals().calls
    }

    /// The failure rate in percent, if the window holds any outcome.
    pub(super) fn failure_rate(&self) -> Option<f64> {
        let t = self.totals();
        (t.calls > 0).then(|| f64::from(t.failures) * 100.0 / f64::from(t.calls))
    }

    /// The slow-call rate in percent, if the window holds any outcome.
    pub(super) fn slow_rate(&self) -> Option<f64> {
        let t = self.totals();
        (t.calls > 0).then(|| f64::from(t.slow) * 100.0 / f64::from(t.calls))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAIL: Sample = Sample {
        failed: true,
        slow: false,
    };
    const OK: Sample = Sample {
        failed: false,
        slow: false,
    };

    #[test]
    fn count_window_keeps_the_last_n_outcomes() {
        let now = Instant::now();
        let mut w = SlidingWindow::new(Window::Count(4));
        for s in [FAIL, FAIL, OK, OK] {
            w.record(s, now);
        }
        assert_eq!((w.calls(), w.failure_rate()), (4, Some(50.0)));
        w.record(OK, now);
        w.record(OK, now);
        assert_eq!((w.calls(), w.failure_rate()), (4, Some(0.0)));
    }

    #[test]
    fn time_window_forgets_outcomes_older_than_its_span() {
        let t0 = Instant::now();
        let span = Duration::from_secs(10);
        let mut w = SlidingWindow::new(Window::Time(span));
        w.record(FAIL, t0);
        w.record(FAIL, t0 + Duration::from_secs(5));
        w.record(OK, t0 + Duration::from_secs(9));
        assert_eq!((w.calls(), w.failure_rate()), (3, Some(200.0 / 3.0)));
        w.evict(t0 + Duration::from_secs(10));
        assert_eq!((w.calls(), w.failure_rate()), (2, Some(50.0)));
        w.evict(t0 + Duration::from_secs(19));
        assert_eq!(w.calls(), 0);
        assert_eq!(w.failure_rate(), None);
    }
}
