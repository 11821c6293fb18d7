//! What every loom model shares: how a model is run.
#![allow(dead_code)]

/// The preemption bound of a model when `LOOM_MAX_PREEMPTIONS` is not set.
const DEFAULT_BOUND: usize = 2;

/// Runs `f` under loom, with a preemption bound of 2 unless
/// `LOOM_MAX_PREEMPTIONS` says otherwise.
pub fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(DEFAULT_BOUND);
    }
    builder.check(f);
}

/// [`model`] with at most `bound` preemptions whatever `LOOM_MAX_PREEMPTIONS`
/// says, for a model whose interleavings grow too fast at the usual bound,
/// or in which two threads may spin-wait on one preempted thread at once (at
/// bound 2 loom explores the two spinners alternating for ever and gives up
/// with "exceeded maximum number of branches").
pub fn model_bounded(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(builder.preemption_bound.map_or(bound, |b| b.min(bound)));
    builder.check(f);
}
