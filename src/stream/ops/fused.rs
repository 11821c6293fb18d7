//! Fused stateless operators: a chain of map, filter, filter_map, inspect and try_map run by one stage actor.

use crate::ActorError;
use crate::stream::{Emitter, Stage};
use crate::sync::Arc;
use std::fmt;

type Chain<T, O> = Arc<dyn Fn(T) -> Result<Option<O>, ActorError> + Send + Sync>;

/// A chain of stateless operators that [`crate::stream::Source::fused`] runs
/// in one stage actor: each element goes through the whole chain in one call,
/// with no message between the operators.
///
/// Every operator of a [`crate::stream::Source`] is its own actor, which
/// costs a message hop per element per stage. Fusing neighbours that keep no
/// state saves those hops, at the price of running them on one worker at a
/// time (no pipelining between them) and under one [`crate::stream::ErrorPolicy`]
/// and one set of metrics. Fusion is explicit: without `fused`, nothing is
/// fused.
///
/// # Examples
///
/// ```
/// use playhouse::stream::{Sink, Source};
/// use playhouse::System;
/// use std::time::Duration;
///
/// let system = System::new();
/// let handle = Source::from_iter(0..10u32)
///     .fused(|f| f.map(|n| n * 3).filter(|n| n % 2 == 0).map(|n| n + 1))
///     .to(Sink::collect())
///     .run(&system)?;
/// assert_eq!(handle.metrics().len(), 3); // source, the fused stage, sink
/// assert_eq!(handle.wait(Duration::from_secs(5))?, vec![1, 7, 13, 19, 25]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Fused<T, O> {
    pub(in crate::stream) chain: Chain<T, O>,
}

impl<T, O> fmt::Debug for Fused<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fused").finish_non_exhaustive()
    }
}

impl<T: 'static> Fused<T, T> {
    pub(in crate::stream) fn identity() -> Self {
        Fused {
            chain: Arc::new(|x| Ok(Some(x))),
        }
    }
}

impl<T: 'static, O: 'static> Fused<T, O> {
    fn then<U: 'static>(
        self,
        g: impl Fn(O) -> Result<Option<U>, ActorError> + Send + Sync + 'static,
    ) -> Fused<T, U> {
        let f = self.chain;
        Fused {
            chain: Arc::new(move |x| match f(x)? {
                Some(y) => g(y),
                None => Ok(None),
            }),
        }
    }

    /// Transforms each element.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let v = Source::from_iter([1, 2]).fused(|f| f.map(|n| n * 2).map(|n| n + 1)).to(Sink::collect()).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(v, vec![3, 5]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map<U: 'static>(self, g: impl Fn(O) -> U + Send + Sync + 'static) -> Fused<T, U> {
        self.then(move |y| Ok(Some(g(y))))
    }

    /// Keeps the elements for which `p` is true.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let v = Source::from_iter(0..6).fused(|f| f.filter(|n| n % 3 == 0)).to(Sink::collect()).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(v, vec![0, 3]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn filter(self, p: impl Fn(&O) -> bool + Send + Sync + 'static) -> Fused<T, O> {
        self.then(move |y| Ok(p(&y).then_some(y)))
    }

    /// Transforms each element, keeping the `Some`s.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let v = Source::from_iter(["4", "-", "2"])
    ///     .fused(|f| f.filter_map(|s| s.parse::<u8>().ok()))
    ///     .to(Sink::collect())
    ///     .run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(v, vec![4, 2]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn filter_map<U: 'static>(
        self,
        g: impl Fn(O) -> Option<U> + Send + Sync + 'static,
    ) -> Fused<T, U> {
        self.then(move |y| Ok(g(y)))
    }

    /// Calls `g` on each element as it passes.
    pub fn inspect(self, g: impl Fn(&O) + Send + Sync + 'static) -> Fused<T, O> {
        self.then(move |y| {
            g(&y);
            Ok(Some(y))
        })
    }

    /// Transforms each element with a function that may fail; a failure is
    /// handled by the fused stage's [`crate::stream::ErrorPolicy`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{ErrorPolicy, Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let v = Source::from_iter(["1", "x", "3"])
    ///     .on_error(ErrorPolicy::Resume)
    ///     .fused(|f| f.map(str::trim).try_map(|s| s.parse::<u32>()))
    ///     .to(Sink::collect())
    ///     .run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(v, vec![1, 3]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_map<U: 'static, E: Into<ActorError> + 'static>(
        self,
        g: impl Fn(O) -> Result<U, E> + Send + Sync + 'static,
    ) -> Fused<T, U> {
        self.then(move |y| g(y).map(Some).map_err(Into::into))
    }
}

/// The stage that runs a fused chain.
pub(in crate::stream) struct FusedStage<T, O>(pub(in crate::stream) Chain<T, O>);

impl<T: Send + 'static, O: Send + 'static> Stage<T, O> for FusedStage<T, O> {
    fn push(&mut self, x: T, out: &mut Emitter<'_, O>) -> Result<(), ActorError> {
        if let Some(y) = (self.0)(x)? {
            out.emit(y);
        }
        Ok(())
    }
}
