//! Aggregates over a window: count, sum, min, max and mean in one pass.

/// Count, sum, min, max and mean of a window of numbers.
///
/// # Examples
///
/// ```
/// use playhouse::stream::Stats;
///
/// let s = Stats::of([3.0, 1.0, 2.0]).unwrap();
/// assert_eq!((s.count, s.sum, s.min, s.max, s.mean), (3, 6.0, 1.0, 3.0, 2.0));
/// assert!(Stats::of(Vec::<f64>::new()).is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Stats {
    /// How many values.
    pub count: usize,
    /// Their sum.
    pub sum: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
    /// The arithmetic mean.
    pub mean: f64,
}

impl Stats {
    /// The aggregates of `values`, or `None` if there are none.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::Stats;
    ///
    /// let s = Stats::of([2u32, 4, 9]).expect("not empty");
    /// assert_eq!((s.min, s.max, s.mean), (2.0, 9.0, 5.0));
    /// ```
    pub fn of<V: Into<f64>>(values: impl IntoIterator<Item = V>) -> Option<Stats> {
        let mut it = values.into_iter().map(Into::into);
        let first = it.next()?;
        let mut s = Stats {
            count: 1,
            sum: first,
            min: first,
            max: first,
            mean: first,
        };
        for v in it {
            s.count += 1;
            s.sum += v;
            s.min = s.min.min(v);
            s.max = s.max.max(v);
        }
        s.mean = s.sum / s.count as f64;
        Some(s)
    }
}
