//! Windows: tumbling and sliding, by count and by time, for the whole stream or one per key.

use super::stage::{Emitter, Stage};
use crate::ActorError;
use crate::sync::Arc;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::Duration;

/// How elements are grouped into windows (see
/// [`crate::stream::Source::window`] and [`crate::stream::Keyed::window`]).
///
/// Time windows close on ticks of the stream clock (the system timer, or a
/// [`crate::stream::ManualClock`]); an element belongs to the window that is
/// open when its stage takes it. Empty windows are not emitted. When the
/// stream ends, the open window is emitted even if it is partial.
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
    pub fn count(n: usize) -> Self {
        Window::Count(n)
    }

    /// Sliding windows of `size` elements every `step` elements.
    pub fn sliding_count(size: usize, step: usize) -> Self {
        Window::SlidingCount { size, step }
    }

    /// Tumbling windows of `period`.
    pub fn time(period: Duration) -> Self {
        Window::Time(period)
    }

    /// Sliding windows of `size` every `slide`.
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

/// Windows over the whole stream.
pub(super) struct Windowed<T> {
    spec: Window,
    state: State<T>,
}

impl<T: Clone> Windowed<T> {
    pub(super) fn new(spec: Window) -> Self {
        Windowed {
            spec,
            state: State::new(spec),
        }
    }
}

impl<T: Clone + Send + 'static> Stage<T, Vec<T>> for Windowed<T> {
    fn push(&mut self, x: T, out: &mut Emitter<'_, Vec<T>>) -> Result<(), ActorError> {
        self.state.push(x, &mut |w| out.emit(w));
        Ok(())
    }
    fn tick_every(&self) -> Option<Duration> {
        self.spec.tick()
    }
    fn tick(&mut self, out: &mut Emitter<'_, Vec<T>>) -> Result<(), ActorError> {
        self.state.tick(&mut |w| out.emit(w));
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
    key: Arc<F>,
    order: Vec<K>,
    states: HashMap<K, State<T>>,
}

impl<T, K, F> KeyedWindows<T, K, F> {
    pub(super) fn new(spec: Window, key: Arc<F>) -> Self {
        KeyedWindows {
            spec,
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
        for k in &self.order {
            if let Some(s) = self.states.get_mut(k) {
                s.tick(&mut |w| out.emit((k.clone(), w)));
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
