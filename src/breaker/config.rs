//! [`BreakerConfig`]: the thresholds and timeouts of a breaker, checked when built.

use std::error::Error;
use std::fmt;
use std::time::Duration;

/// The sliding window over which failure and slow-call rates are measured.
///
/// # Examples
///
/// ```
/// use playhouse::breaker::{BreakerConfig, Reason, StateMachine, Verdict, Window};
/// use std::time::Instant;
///
/// // Open when half of the last 4 calls failed.
/// let config = BreakerConfig::builder()
///     .no_max_failures()
///     .failure_rate(50.0, Window::Count(4), 4)
///     .build()?;
/// let mut sm = StateMachine::new(config);
/// let t = Instant::now();
/// let mut last = None;
/// for v in [Verdict::Success, Verdict::Failure, Verdict::Success, Verdict::Failure] {
///     let p = sm.try_acquire(t).permit.unwrap();
///     last = sm.record(p, v, t).transition;
/// }
/// assert_eq!(last.map(|t| t.reason), Some(Reason::FailureRate(50.0)));
/// # Ok::<(), playhouse::breaker::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The outcomes of the last `n` calls.
    Count(u32),
    /// The outcomes of the calls that ended in the last `d`.
    Time(Duration),
}

/// A breaker's settings, validated by [`BreakerConfigBuilder::build`].
///
/// Two trip rules, either or both:
/// - **consecutive failures** (Akka): `max_failures` failures in a row open the
///   breaker; any success resets the count. On by default (5).
/// - **rates** (resilience4j): once the [`Window`] holds at least
///   `minimum_calls` outcomes, a failure rate or slow-call rate at or above its
///   threshold (a percentage) opens the breaker. Off unless set.
///
/// # Examples
///
/// ```
/// use playhouse::breaker::{BreakerConfig, Window};
/// use std::time::Duration;
///
/// let config = BreakerConfig::builder()
///     .max_failures(3)
///     .call_timeout(Duration::from_millis(200))
///     .reset_timeout(Duration::from_secs(1))
///     .backoff_factor(2.0)
///     .max_reset_timeout(Duration::from_secs(30))
///     .failure_rate(50.0, Window::Count(20), 10)
///     .build()?;
/// assert_eq!(config.max_failures(), Some(3));
///
/// let bad = BreakerConfig::builder().backoff_factor(0.5).build();
/// assert!(bad.is_err());
/// # Ok::<(), playhouse::breaker::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerConfig {
    pub(super) max_failures: Option<u32>,
    pub(super) call_timeout: Duration,
    pub(super) reset_timeout: Duration,
    pub(super) backoff_factor: f64,
    pub(super) max_reset_timeout: Duration,
    pub(super) jitter: f64,
    pub(super) failure_rate: Option<f64>,
    pub(super) slow_call: Option<(Duration, f64)>,
    pub(super) window: Window,
    pub(super) minimum_calls: u32,
    pub(super) max_probes: u32,
    pub(super) operation_threads: usize,
    pub(super) late_window: Option<Duration>,
}

impl BreakerConfig {
    /// A builder with the defaults: 5 consecutive failures, a 10 s call
    /// timeout, a 1 s reset timeout with factor 1 (no backoff) capped at 60 s,
    /// no jitter, no rate rules, one probe, two operation threads.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::BreakerConfig;
    /// use std::time::Duration;
    ///
    /// let config = BreakerConfig::builder().build()?; // the defaults
    /// assert_eq!(config.max_failures(), Some(5));
    /// assert_eq!(config.call_timeout(), Duration::from_secs(10));
    /// assert_eq!(config.reset_timeout(), Duration::from_secs(1));
    /// assert_eq!(config.max_probes(), 1);
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn builder() -> BreakerConfigBuilder {
        BreakerConfigBuilder {
            config: BreakerConfig {
                max_failures: Some(5),
                call_timeout: Duration::from_secs(10),
                reset_timeout: Duration::from_secs(1),
                backoff_factor: 1.0,
                max_reset_timeout: Duration::from_secs(60),
                jitter: 0.0,
                failure_rate: None,
                slow_call: None,
                window: Window::Count(100),
                minimum_calls: 100,
                max_probes: 1,
                operation_threads: 2,
                late_window: None,
            },
            no_consecutive: false,
        }
    }

    /// Consecutive failures that open the breaker, if that rule is on.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, Window};
    ///
    /// let rate_only = BreakerConfig::builder()
    ///     .no_max_failures()
    ///     .failure_rate(25.0, Window::Count(100), 20)
    ///     .build()?;
    /// assert_eq!(rate_only.max_failures(), None);
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn max_failures(&self) -> Option<u32> {
        self.max_failures
    }

    /// How long a call may take before it counts as a failed timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::BreakerConfig;
    /// use std::time::Duration;
    ///
    /// let config = BreakerConfig::builder().call_timeout(Duration::from_millis(250)).build()?;
    /// assert_eq!(config.call_timeout(), Duration::from_millis(250));
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn call_timeout(&self) -> Duration {
        self.call_timeout
    }

    /// How long past the call timeout a late answer is still counted.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::BreakerConfig;
    /// use std::time::Duration;
    ///
    /// // By default, one more call timeout.
    /// let config = BreakerConfig::builder().call_timeout(Duration::from_millis(300)).build()?;
    /// assert_eq!(config.late_window(), Duration::from_millis(300));
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn late_window(&self) -> Duration {
        self.late_window.unwrap_or(self.call_timeout)
    }

    /// How long the breaker stays open after it first trips.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::BreakerConfig;
    /// use std::time::Duration;
    ///
    /// let config = BreakerConfig::builder().reset_timeout(Duration::from_secs(5)).build()?;
    /// assert_eq!(config.reset_timeout(), Duration::from_secs(5));
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn reset_timeout(&self) -> Duration {
        self.reset_timeout
    }

    /// Calls admitted in half-open before the breaker decides.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::BreakerConfig;
    ///
    /// assert_eq!(BreakerConfig::builder().max_probes(3).build()?.max_probes(), 3);
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn max_probes(&self) -> u32 {
        self.max_probes
    }
}

/// Builds a [`BreakerConfig`]; see there for the rules and an example.
///
/// # Examples
///
/// ```
/// use playhouse::breaker::{BreakerConfig, ConfigError};
///
/// let err = BreakerConfig::builder().max_failures(0).build().unwrap_err();
/// assert!(matches!(err, ConfigError::Zero(_)));
/// ```
#[derive(Debug, Clone)]
pub struct BreakerConfigBuilder {
    config: BreakerConfig,
    no_consecutive: bool,
}

impl BreakerConfigBuilder {
    /// Opens after `n` consecutive failures (default 5).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{Breaker, BreakerConfig, State};
    ///
    /// let breaker = Breaker::new(BreakerConfig::builder().max_failures(3).build()?);
    /// for _ in 0..2 {
    ///     let _ = breaker.call(|| Err::<(), _>("down"));
    /// }
    /// assert_eq!(breaker.state(), State::Closed); // two in a row: not yet
    /// let _ = breaker.call(|| Err::<(), _>("down"));
    /// assert_eq!(breaker.state(), State::Open);
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn max_failures(mut self, n: u32) -> Self {
        self.config.max_failures = Some(n);
        self.no_consecutive = false;
        self
    }

    /// Turns the consecutive-failure rule off; a rate rule must then be set.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, ConfigError};
    ///
    /// // With no rule left, the breaker could never open: refused.
    /// let err = BreakerConfig::builder().no_max_failures().build().unwrap_err();
    /// assert_eq!(err, ConfigError::NoTripRule);
    /// ```
    pub fn no_max_failures(mut self) -> Self {
        self.no_consecutive = true;
        self
    }

    /// A call that takes longer fails with a timeout (default 10 s).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{Breaker, BreakerConfig};
    /// use std::time::Duration;
    ///
    /// let breaker = Breaker::new(BreakerConfig::builder().call_timeout(Duration::from_millis(1)).build()?);
    /// // The inline breaker cannot interrupt a call: it counts it as a timeout.
    /// let v = breaker.call(|| {
    ///     std::thread::sleep(Duration::from_millis(3));
    ///     Ok::<_, ()>(7)
    /// });
    /// assert_eq!(v, Ok(7));
    /// assert_eq!(breaker.metrics().timeouts, 1);
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn call_timeout(mut self, d: Duration) -> Self {
        self.config.call_timeout = d;
        self
    }

    /// How long the breaker stays open after tripping from closed (default 1 s).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, StateMachine, Verdict};
    /// use std::time::{Duration, Instant};
    ///
    /// let config = BreakerConfig::builder().max_failures(1).reset_timeout(Duration::from_secs(30)).build()?;
    /// let mut sm = StateMachine::new(config);
    /// let t0 = Instant::now();
    /// let p = sm.try_acquire(t0).permit.unwrap();
    /// let _ = sm.record(p, Verdict::Failure, t0);
    /// assert_eq!(sm.open_until(), Some(t0 + Duration::from_secs(30)));
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn reset_timeout(mut self, d: Duration) -> Self {
        self.config.reset_timeout = d;
        self
    }

    /// Each failed probe multiplies the open time by `factor` (at least 1;
    /// default 1).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, StateMachine, Verdict};
    /// use std::time::{Duration, Instant};
    ///
    /// let config = BreakerConfig::builder()
    ///     .max_failures(1)
    ///     .reset_timeout(Duration::from_secs(1))
    ///     .backoff_factor(2.0)
    ///     .build()?;
    /// let mut sm = StateMachine::new(config);
    /// let t0 = Instant::now();
    /// let p = sm.try_acquire(t0).permit.unwrap();
    /// let _ = sm.record(p, Verdict::Failure, t0); // open for 1 s
    /// let t1 = t0 + Duration::from_secs(1);
    /// let probe = sm.try_acquire(t1).permit.unwrap();
    /// let r = sm.record(probe, Verdict::Failure, t1); // the probe fails: open for 2 s
    /// assert_eq!(r.transition.and_then(|t| t.open_for), Some(Duration::from_secs(2)));
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn backoff_factor(mut self, factor: f64) -> Self {
        self.config.backoff_factor = factor;
        self
    }

    /// The cap on the open time, jitter included (default 60 s; not below
    /// the reset timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, ConfigError};
    /// use std::time::Duration;
    ///
    /// let config = BreakerConfig::builder()
    ///     .backoff_factor(2.0)
    ///     .max_reset_timeout(Duration::from_secs(30))
    ///     .build();
    /// assert!(config.is_ok());
    /// let below = BreakerConfig::builder()
    ///     .reset_timeout(Duration::from_secs(10))
    ///     .max_reset_timeout(Duration::from_secs(5))
    ///     .build();
    /// assert!(matches!(below, Err(ConfigError::MaxBelowMin { .. })));
    /// ```
    pub fn max_reset_timeout(mut self, d: Duration) -> Self {
        self.config.max_reset_timeout = d;
        self
    }

    /// Lengthens each open time by a random fraction of itself, up to
    /// `fraction` (0 to 1; default 0), so breakers that tripped together do not
    /// probe together.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, StateMachine, Verdict};
    /// use std::time::{Duration, Instant};
    ///
    /// let config = BreakerConfig::builder()
    ///     .max_failures(1)
    ///     .reset_timeout(Duration::from_secs(10))
    ///     .jitter(0.5)
    ///     .build()?;
    /// let mut sm = StateMachine::new(config);
    /// let t0 = Instant::now();
    /// let p = sm.try_acquire(t0).permit.unwrap();
    /// let open_for = sm.record(p, Verdict::Failure, t0).transition.and_then(|t| t.open_for).unwrap();
    /// assert!(open_for >= Duration::from_secs(10) && open_for <= Duration::from_secs(15));
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.config.jitter = fraction;
        self
    }

    /// Opens when at least `percent` % of the calls in `window` failed, once it
    /// holds at least `minimum_calls` outcomes.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, State, StateMachine, Verdict, Window};
    /// use std::time::{Duration, Instant};
    ///
    /// // Over the calls of the last minute, once there are at least 10.
    /// let config = BreakerConfig::builder()
    ///     .failure_rate(20.0, Window::Time(Duration::from_secs(60)), 10)
    ///     .build()?;
    /// let mut sm = StateMachine::new(config);
    /// let t = Instant::now();
    /// for i in 0..10 {
    ///     let p = sm.try_acquire(t).permit.unwrap();
    ///     let v = if i % 5 == 0 { Verdict::Failure } else { Verdict::Success };
    ///     let _ = sm.record(p, v, t);
    /// }
    /// assert_eq!(sm.state(), State::Open); // 2 of 10 failed: 20 %
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn failure_rate(mut self, percent: f64, window: Window, minimum_calls: u32) -> Self {
        self.config.failure_rate = Some(percent);
        self.config.window = window;
        self.config.minimum_calls = minimum_calls;
        self
    }

    /// Counts a call that takes at least `threshold` as slow, and opens when at
    /// least `percent` % of the calls in the window were slow. The window and
    /// minimum are those of [`Self::failure_rate`] if set, else the last 100
    /// calls with a minimum of 100.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, State, StateMachine, Verdict, Window};
    /// use std::time::{Duration, Instant};
    ///
    /// let config = BreakerConfig::builder()
    ///     .slow_calls(Duration::from_millis(500), 50.0)
    ///     .window(Window::Count(4), 4)
    ///     .build()?;
    /// let mut sm = StateMachine::new(config);
    /// let t = Instant::now();
    /// for ms in [100, 900, 100, 800] {
    ///     let p = sm.try_acquire(t).permit.unwrap();
    ///     let _ = sm.record(p, Verdict::Success, t + Duration::from_millis(ms));
    /// }
    /// assert_eq!(sm.metrics().slow_calls, 2);
    /// assert_eq!(sm.state(), State::Open); // successes, but half of them slow
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn slow_calls(mut self, threshold: Duration, percent: f64) -> Self {
        self.config.slow_call = Some((threshold, percent));
        self
    }

    /// The window and minimum of calls used by the rate rules.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, StateMachine, Verdict, Window};
    /// use std::time::Instant;
    ///
    /// let config = BreakerConfig::builder()
    ///     .failure_rate(50.0, Window::Count(10), 10)
    ///     .window(Window::Count(2), 2) // narrows the window set above
    ///     .max_failures(100)
    ///     .build()?;
    /// let mut sm = StateMachine::new(config);
    /// let t = Instant::now();
    /// let p = sm.try_acquire(t).permit.unwrap();
    /// let _ = sm.record(p, Verdict::Success, t);
    /// assert_eq!(sm.metrics().failure_rate, None); // fewer calls than the minimum
    /// let p = sm.try_acquire(t).permit.unwrap();
    /// let _ = sm.record(p, Verdict::Success, t);
    /// assert_eq!(sm.metrics().failure_rate, Some(0.0));
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn window(mut self, window: Window, minimum_calls: u32) -> Self {
        self.config.window = window;
        self.config.minimum_calls = minimum_calls;
        self
    }

    /// Calls admitted while half-open (default 1). Any failure among them
    /// reopens the breaker; `n` successes close it.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, Rejected, State, StateMachine, Verdict};
    /// use std::time::{Duration, Instant};
    ///
    /// let config = BreakerConfig::builder().max_failures(1).max_probes(2).build()?;
    /// let mut sm = StateMachine::new(config);
    /// let t0 = Instant::now();
    /// let p = sm.try_acquire(t0).permit.unwrap();
    /// let _ = sm.record(p, Verdict::Failure, t0);
    /// let t1 = t0 + Duration::from_secs(1); // the default reset timeout
    /// let a = sm.try_acquire(t1).permit.unwrap();
    /// let b = sm.try_acquire(t1).permit.unwrap();
    /// assert_eq!(sm.try_acquire(t1).permit, Err(Rejected::ProbesTaken));
    /// let _ = sm.record(a, Verdict::Success, t1);
    /// assert_eq!(sm.state(), State::HalfOpen); // one of two
    /// let _ = sm.record(b, Verdict::Success, t1);
    /// assert_eq!(sm.state(), State::Closed);
    /// # Ok::<(), playhouse::breaker::ConfigError>(())
    /// ```
    pub fn max_probes(mut self, n: u32) -> Self {
        self.config.max_probes = n;
        self
    }

    /// How long past the call timeout the breaker actor still listens for an
    /// answer, to count it as late (default: one more call timeout). The
    /// service's [`Reply`](crate::Reply) deadline is the call timeout plus this;
    /// an answer later than that is dropped uncounted.
    pub fn late_window(mut self, d: Duration) -> Self {
        self.config.late_window = Some(d);
        self
    }

    /// Threads a guarded operation runs on (default 2; see
    /// [`super::CircuitBreaker::guarding`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, ConfigError};
    ///
    /// assert!(BreakerConfig::builder().operation_threads(4).build().is_ok());
    /// assert!(matches!(BreakerConfig::builder().operation_threads(0).build(), Err(ConfigError::Zero(_))));
    /// ```
    pub fn operation_threads(mut self, n: usize) -> Self {
        self.config.operation_threads = n;
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first setting that cannot work.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, ConfigError, Window};
    ///
    /// let err = BreakerConfig::builder()
    ///     .failure_rate(150.0, Window::Count(10), 5)
    ///     .build()
    ///     .unwrap_err();
    /// assert!(matches!(err, ConfigError::RateOutOfRange { .. }));
    /// assert_eq!(BreakerConfig::builder().jitter(2.0).build().unwrap_err(), ConfigError::JitterOutOfRange(2.0));
    /// ```
    pub fn build(self) -> Result<BreakerConfig, ConfigError> {
        let mut c = self.config;
        if self.no_consecutive {
            c.max_failures = None;
        }
        if c.max_failures == Some(0) {
            return Err(ConfigError::Zero("max_failures"));
        }
        for (name, d) in [
            ("call_timeout", c.call_timeout),
            ("reset_timeout", c.reset_timeout),
            ("max_reset_timeout", c.max_reset_timeout),
        ] {
            if d.is_zero() {
                return Err(ConfigError::Zero(name));
            }
        }
        if c.max_probes == 0 {
            return Err(ConfigError::Zero("max_probes"));
        }
        if c.operation_threads == 0 {
            return Err(ConfigError::Zero("operation_threads"));
        }
        match c.window {
            Window::Count(0) => return Err(ConfigError::Zero("window")),
            Window::Time(d) if d.is_zero() => return Err(ConfigError::Zero("window")),
            _ => {}
        }
        if c.minimum_calls == 0 {
            return Err(ConfigError::Zero("minimum_calls"));
        }
        let rates = [
            ("failure_rate", c.failure_rate),
            ("slow_call_rate", c.slow_call.map(|(_, r)| r)),
        ];
        for (name, rate) in rates {
            if let Some(r) = rate
                && !(r > 0.0 && r <= 100.0)
            {
                return Err(ConfigError::RateOutOfRange {
                    setting: name,
                    value: r,
                });
            }
        }
        if let Some((threshold, _)) = c.slow_call
            && threshold.is_zero()
        {
            return Err(ConfigError::Zero("slow_call_threshold"));
        }
        if !(c.backoff_factor >= 1.0 && c.backoff_factor.is_finite()) {
            return Err(ConfigError::FactorBelowOne(c.backoff_factor));
        }
        if !(0.0..=1.0).contains(&c.jitter) {
            return Err(ConfigError::JitterOutOfRange(c.jitter));
        }
        if c.max_reset_timeout < c.reset_timeout {
            return Err(ConfigError::MaxBelowMin {
                min: c.reset_timeout,
                max: c.max_reset_timeout,
            });
        }
        if c.max_failures.is_none() && c.failure_rate.is_none() && c.slow_call.is_none() {
            return Err(ConfigError::NoTripRule);
        }
        Ok(c)
    }
}

/// A breaker configuration that cannot work.
///
/// # Examples
///
/// ```
/// use playhouse::breaker::{BreakerConfig, ConfigError};
///
/// let err = BreakerConfig::builder().backoff_factor(0.5).build().unwrap_err();
/// assert_eq!(err, ConfigError::FactorBelowOne(0.5));
/// println!("bad breaker config: {err}");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A threshold, count, timeout or window that must be positive was zero
    /// (the setting's name).
    Zero(&'static str),
    /// A rate was not in `0 < rate <= 100` (percent).
    RateOutOfRange {
        /// `"failure_rate"` or `"slow_call_rate"`.
        setting: &'static str,
        /// The rate given.
        value: f64,
    },
    /// The backoff factor was below 1 (or not a number).
    FactorBelowOne(f64),
    /// The jitter fraction was outside `0..=1`.
    JitterOutOfRange(f64),
    /// `max_reset_timeout` was below `reset_timeout`.
    MaxBelowMin {
        /// The reset timeout.
        min: Duration,
        /// The cap given.
        max: Duration,
    },
    /// Every trip rule was off: the breaker could never open.
    NoTripRule,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Zero(s) => {
                write!(f, "invalid breaker configuration: {s} must be positive")
            }
            ConfigError::RateOutOfRange { setting, value } => write!(
                f,
                "invalid breaker configuration: {setting} {value} is not a percentage in (0, 100]"
            ),
            ConfigError::FactorBelowOne(x) => {
                write!(
                    f,
                    "invalid breaker configuration: backoff factor {x} is below 1"
                )
            }
            ConfigError::JitterOutOfRange(x) => {
                write!(
                    f,
                    "invalid breaker configuration: jitter {x} is outside 0..=1"
                )
            }
            ConfigError::MaxBelowMin { min, max } => write!(
                f,
                "invalid breaker configuration: max_reset_timeout {max:?} is below reset_timeout {min:?}"
            ),
            ConfigError::NoTripRule => {
                write!(
                    f,
                    "invalid breaker configuration: no rule can open the breaker"
                )
            }
        }
    }
}

impl Error for ConfigError {}
