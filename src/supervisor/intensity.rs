//! Restart intensity (at most `max` restarts within a period) and the backoff between restarts.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The restarts within the last period, oldest first.
#[derive(Debug)]
pub(super) struct Intensity {
    max_restarts: u32,
    period: Duration,
    backoff: Option<(Duration, Duration)>,
    recent: VecDeque<Instant>,
}

impl Intensity {
    pub(super) fn new(
        max_restarts: u32,
        period: Duration,
        backoff: Option<(Duration, Duration)>,
    ) -> Self {
        Intensity {
            max_restarts,
            period,
            backoff,
            recent: VecDeque::new(),
        }
    }

    /// Records a restart at `now`; returns whether it is one too many (the
    /// supervisor gives up).
    pub(super) fn exceeded_by_restart(&mut self, now: Instant) -> bool {
        self.recent.push_back(now);
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.period)
        {
            self.recent.pop_front();
        }
        self.recent.len() > self.max_restarts as usize
    }

    /// The delay before the restart just recorded: the backoff's minimum for
    /// the first within the period, doubling for each further one, at most
    /// its maximum. `None` without a backoff.
    pub(super) fn delay(&self) -> Option<Duration> {
        let (min, max) = self.backoff?;
        let n = self.recent.len().saturating_sub(1).min(30) as u32;
        Some(min.saturating_mul(1u32 << n).min(max))
    }

    pub(super) fn max_restarts(&self) -> u32 {
        self.max_restarts
    }

    pub(super) fn period(&self) -> Duration {
        self.period
    }
}

#[cfg(test)]
mod tests {
    use super::Intensity;
    use std::time::{Duration, Instant};

    #[test]
    fn one_restart_more_than_the_limit_within_the_period_exceeds_it() {
        let mut i = Intensity::new(2, Duration::from_secs(10), None);
        let t = Instant::now();
        assert!(!i.exceeded_by_restart(t));
        assert!(!i.exceeded_by_restart(t));
        assert!(i.exceeded_by_restart(t));
        // Restarts older than the period no longer count.
        let later = t + Duration::from_secs(11);
        let mut j = Intensity::new(1, Duration::from_secs(10), None);
        assert!(!j.exceeded_by_restart(t));
        assert!(!j.exceeded_by_restart(later));
    }

    #[test]
    fn backoff_doubles_up_to_its_maximum() {
        let ms = Duration::from_millis;
        let mut i = Intensity::new(10, Duration::from_secs(10), Some((ms(10), ms(35))));
        let t = Instant::now();
        let delays: Vec<_> = (0..4)
            .map(|_| {
                let _ = i.exceeded_by_restart(t);
                i.delay().unwrap()
            })
            .collect();
        assert_eq!(delays, [ms(10), ms(20), ms(35), ms(35)]);
    }
}
