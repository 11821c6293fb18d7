//! Windows: tumbling and sliding, by count and by time, for the whole stream or one per key.

use super::stage::{Emitter, Stage, periods_since};
use crate::ActorError;
use crate::sync::Arc;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::Duration;

/// How elements are grouped into windows (see
/// [`crate::stream::Source::window`] and [`crate::stream::Keyed::window`]).
///
/// Time windows are measured on the system's clock (wall time, or the
/// [`crate::testkit::ManualClock`] the system was built with), from the
/// moment the stage starts: an element belongs to the window that is open
/// when its stage takes it, and a window closes at the first tick or element
/// after its end. When the clock has moved past several ends at once, every
/// window that ended closes, in order. Empty windows are not emitted. When
/// the stream ends, the open window is emitted even if it is partial.
///
/// # Examples
///
/// ```
/// use playhouse::stream::{Sink, Source, Window};
/// use playhouse::System;
/// use std::time::Duration;
///
/// let system = System::new();
/// let windows = Source::from_iter(0..25)
///     .window(Window::count(10))
///     .map(|w| w.len())
///     .to(Sink::collect())
///     .run(&system)?
///     .wait(Duration::from_secs(5))?;
/// assert_eq!(windows, vec![10, 10, 5]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Window {
    /// Consecutive windows of `n` elements.
    Count(usize),
    /// Windows of `size` elements, one every `step` elements
    /// (`1 <= step <= size`).
    SlidingCount {
        /// Elements per window.
        size: usize,
        /// Elements between the starts of two windows.
        step: usize,
    },
    /// Consecutive windows of one period each.
    Time(Duration),
    /// Windows of `size`, one closing every `slide` (`slide <= size`; the
    /// size is rounded up to a whole number of slides).
    SlidingTime {
        /// The span of one window.
        size: Duration,
        /// The time between two windows' ends.
        slide: Duration,
    },
}

impl Window {
    /// Tumbling windows of `n` elements.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source, Window};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let w = Source::from_iter(0..6).window(Window::count(4)).to(Sink::collect()).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(w, vec![vec![0, 1, 2, 3], vec![4, 5]]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn count(n: usize) -> Self {
        Window::Count(n)
    }

    /// Sliding windows of `size` elements every `step` elements.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source, Window};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// // A moving average over the last 3 readings, every 2 readings.
    /// let avg = Source::from_iter([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    ///     .window(Window::sliding_count(3, 2))
    ///     .map(|w: Vec<f64>| w.iter().sum::<f64>() / w.len() as f64)
    ///     .to(Sink::collect())
    ///     .run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(avg[..3], [2.0, 4.0, 6.0]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sliding_count(size: usize, step: usize) -> Self {
        Window::SlidingCount { size, step }
    }

    /// Tumbling windows of `period`.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source, Window};
    /// use playhouse::testkit::ManualClock;
    /// use playhouse::System;
    /// use std::time::Duration;
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let clock = ManualClock::new();
    /// let system = System::builder().clock(clock.clone()).build()?;
    /// let (source, queue) = Source::queue(&system, 8)?;
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// let handle = source.window(Window::time(Duration::from_secs(10))).to(Sink::to_sender(tx)).run(&system)?;
    /// system.await_quiescent(T)?;
    /// queue.push('a')?;
    /// system.await_quiescent(T)?;
    /// clock.advance(Duration::from_secs(10));
    /// assert_eq!(rx.recv_timeout(T)?, vec!['a']);
    /// queue.push('b')?;
    /// drop(queue); // the end flushes the partial window
    /// assert_eq!(rx.recv_timeout(T)?, vec!['b']);
    /// handle.wait(T)?;
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn time(period: Duration) -> Self {
        Window::Time(period)
    }

    /// Sliding windows of `size` every `slide`.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source, StartError, Window};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// // The last minute, every 10 s; a slide longer than the window is refused.
    /// let bad = Window::sliding_time(Duration::from_secs(10), Duration::from_secs(60));
    /// let err = Source::from_iter(0..1).window(bad).to(Sink::ignore()).run(&system).unwrap_err();
    /// assert!(matches!(err, StartError::Invalid(_)));
    /// let ok = Window::sliding_time(Duration::from_secs(60), Duration::from_secs(10));
    /// let n = Source::from_iter(0..3).window(ok).to(Sink::count()).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(n, 1); // the open window, flushed at the end
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sliding_time(size: Duration, slide: Duration) -> Self {
        Window::SlidingTime { size, slide }
    }

    /// The setting that cannot work, if any.
    pub(super) fn invalid(&self) -> Option<&'static str> {
        match *self {
            Window::Count(0) => Some("window size"),
            Window::SlidingCount { size, step } if size == 0 || step == 0 || step > size => {
                Some("sliding window size or step")
            }
            Window::Time(d) if d.is_zero() => Some("window period"),
            Window::SlidingTime { size, slide } if slide.is_zero() || slide > size => {
                Some("sliding window size or slide")
            }
            _ => None,
        }
    }

    fn tick(&self) -> Option<Duration> {
        match *self {
            Window::Time(d) => Some(d),
            Window::SlidingTime { slide, .. } => Some(slide),
            _ => None,
        }
    }
}

/// One window's state.
enum State<T> {
    Count {
        n: usize,
        buf: Vec<T>,
    },
    Sliding {
        size: usize,
        step: usize,
        buf: VecDeque<T>,
        fresh: usize,
    },
    Time {
        buf: Vec<T>,
    },
    SlidingTime {
        slides: usize,
        buckets: VecDeque<Vec<T>>,
        current: Vec<T>,
    },
}

impl<T: Clone> State<T> {
    fn new(w: Window) -> Self {
        match w {
            Window::Count(n) => State::Count { n, buf: Vec::new() },
            Window::SlidingCount { size, step } => State::Sliding {
                size,
                step,
                buf: VecDeque::new(),
                fresh: 0,
            },
            Window::Time(_) => State::Time { buf: Vec::new() },
            Window::SlidingTime { size, slide } => State::SlidingTime {
                slides: size.as_nanos().div_ceil(slide.as_nanos()).max(1) as usize,
                buckets: VecDeque::new(),
                current: Vec::new(),
            },
        }
    }

    fn push(&mut self, x: T, emit: &mut dyn FnMut(Vec<T>)) {
        match self {
            State::Count { n, buf } => {
                buf.push(x);
                if buf.len() >= *n {
                    emit(std::mem::take(buf));
                }
            }
            State::Sliding {
                size,
                step,
                buf,
                fresh,
            } => {
                buf.push_back(x);
                *fresh += 1;
                if buf.len() >= *size {
                    emit(buf.iter().cloned().collect());
                    buf.drain(..*step);
                    *fresh = 0;
                }
            }
            State::Time { buf } => buf.push(x),
            State::SlidingTime { current, .. } => current.push(x),
        }
    }

    /// Closes `n` consecutive windows (slides), the first holding what came
    /// in so far, the rest empty.
    fn close(&mut self, n: u64, emit: &mut dyn FnMut(Vec<T>)) {
        // Past this many closings every window is empty: the rest emit
        // nothing and change nothing.
        let enough = match self {
            State::SlidingTime { slides, .. } => *slides as u64 + 1,
            _ => 1,
        };
        for _ in 0..n.min(enough) {
            self.tick(emit);
        }
    }

    fn tick(&mut self, emit: &mut dyn FnMut(Vec<T>)) {
        match self {
            State::Time { buf } if !buf.is_empty() => emit(std::mem::take(buf)),
            State::SlidingTime {
                slides,
                buckets,
                current,
            } => {
                buckets.push_back(std::mem::take(current));
                while buckets.len() > *slides {
                    buckets.pop_front();
                }
                if buckets.iter().any(|b| !b.is_empty()) {
                    emit(buckets.iter().flatten().cloned().collect());
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self, emit: &mut dyn FnMut(Vec<T>)) {
        match self {
            State::Count { buf, .. } | State::Time { buf } if !buf.is_empty() => {
                emit(std::mem::take(buf));
            }
            State::Sliding { buf, fresh, .. } if *fresh > 0 => {
                emit(buf.drain(..).collect());
                *fresh = 0;
            }
            State::SlidingTime {
                slides,
                buckets,
                current,
            } if !current.is_empty() => {
                while buckets.len() >= *slides {
                    buckets.pop_front();
                }
                buckets.push_back(std::mem::take(current));
                emit(buckets.drain(..).flatten().collect());
            }
            _ => {}
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            State::Count { buf, .. } | State::Time { buf } => buf.is_empty(),
            State::Sliding { buf, .. } => buf.is_empty(),
            State::SlidingTime {
                buckets, current, ..
            } => current.is_empty() && buckets.iter().all(Vec::is_empty),
        }
    }
}

/// Which time window (slide) is open, counted in periods from the stage's
/// start.
#[derive(Default)]
struct Epoch(u64);

impl Epoch {
    /// How many windows (slides) ended since the last call, by the clock: the
    /// open window moves to the one holding `out.now()`. Zero for count
    /// windows.
    fn ended<O>(&mut self, spec: Window, out: &Emitter<'_, O>) -> u64 {
        let Some(period) = spec.tick() else { return 0 };
        let now = periods_since(out.origin(), period, out.now());
        let ended = now.saturating_sub(self.0);
        self.0 = self.0.max(now);
        ended
    }
}

/// Windows over the whole stream.
pub(super) struct Windowed<T> {
    spec: Window,
    epoch: Epoch,
    state: State<T>,
}

impl<T: Clone> Windowed<T> {
    pub(super) fn new(spec: Window) -> Self {
        Windowed {
            spec,
            epoch: Epoch::default(),
            state: State::new(spec),
        }
    }

    /// Closes the windows that ended by now.
    fn catch_up(&mut self, out: &mut Emitter<'_, Vec<T>>) {
        let ended = self.epoch.ended(self.spec, out);
        self.state.close(ended, &mut |w| out.emit(w));
    }
}

impl<T: Clone + Send + 'static> Stage<T, Vec<T>> for Windowed<T> {
    fn push(&mut self, x: T, out: &mut Emitter<'_, Vec<T>>) -> Result<(), ActorError> {
        self.catch_up(out);
        self.state.push(x, &mut |w| out.emit(w));
        Ok(())
    }
    fn tick_every(&self) -> Option<Duration> {
        self.spec.tick()
    }
    fn tick(&mut self, out: &mut Emitter<'_, Vec<T>>) -> Result<(), ActorError> {
        self.catch_up(out);
        Ok(())
    }
    fn finish(&mut self, out: &mut Emitter<'_, Vec<T>>) -> Result<(), ActorError> {
        self.state.finish(&mut |w| out.emit(w));
        Ok(())
    }
}

/// One set of windows per key, keys visited in first-seen order.
pub(super) struct KeyedWindows<T, K, F> {
    spec: Window,
    epoch: Epoch,
    key: Arc<F>,
    order: Vec<K>,
    states: HashMap<K, State<T>>,
}

impl<T, K, F> KeyedWindows<T, K, F> {
    pub(super) fn new(spec: Window, key: Arc<F>) -> Self {
        KeyedWindows {
            spec,
            epoch: Epoch::default(),
            key,
            order: Vec::new(),
            states: HashMap::new(),
        }
    }
}

impl<T, K, F> Stage<T, (K, Vec<T>)> for KeyedWindows<T, K, F>
where
    T: Clone + Send + 'static,
    K: Eq + Hash + Clone + Send + 'static,
    F: Fn(&T) -> K + Send + Sync + 'static,
{
    fn push(&mut self, x: T, out: &mut Emitter<'_, (K, Vec<T>)>) -> Result<(), ActorError> {
        self.catch_up(out);
        let k = (self.key)(&x);
        let spec = self.spec;
        let state = self.states.entry(k.clone()).or_insert_with(|| {
            self.order.push(k.clone());
            State::new(spec)
        });
        state.push(x, &mut |w| out.emit((k.clone(), w)));
        Ok(())
    }
    fn tick_every(&self) -> Option<Duration> {
        self.spec.tick()
    }
    fn tick(&mut self, out: &mut Emitter<'_, (K, Vec<T>)>) -> Result<(), ActorError> {
        self.catch_up(out);
        Ok(())
    }
    fn finish(&mut self, out: &mut Emitter<'_, (K, Vec<T>)>) -> Result<(), ActorError> {
        for k in &self.order {
            if let Some(s) = self.states.get_mut(k) {
                s.finish(&mut |w| out.emit((k.clone(), w)));
            }
        }
        Ok(())
    }
}

impl<T, K, F> KeyedWindows<T, K, F>
where
    T: Clone + Send + 'static,
    K: Eq + Hash + Clone + Send + 'static,
{
    /// Closes, key by key in first-seen order, the windows that ended by now.
    fn catch_up(&mut self, out: &mut Emitter<'_, (K, Vec<T>)>) {
        let ended = self.epoch.ended(self.spec, out);
        if ended == 0 {
            return;
        }
        for k in &self.order {
            if let Some(s) = self.states.get_mut(k) {
                s.close(ended, &mut |w| out.emit((k.clone(), w)));
            }
        }
        // Keys whose windows are all empty hold nothing: forget them, so
        // short-lived keys do not pile up.
        let states = &mut self.states;
        self.order.retain(|k| {
            let keep = states.get(k).is_some_and(|s| !s.is_empty());
            if !keep {
                states.remove(k);
            }
            keep
        });
    }
}
