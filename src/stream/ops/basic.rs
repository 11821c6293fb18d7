//! Element-wise stages: map, filter, filter_map, inspect, try_map.

use crate::ActorError;
use crate::stream::{Emitter, Stage};
use crate::sync::Arc;

pub(in crate::stream) struct Map<F>(pub(in crate::stream) Arc<F>);

impl<T, U, F> Stage<T, U> for Map<F>
where
    F: Fn(T) -> U + Send + Sync + 'static,
{
    fn push(&mut self, x: T, out: &mut Emitter<'_, U>) -> Result<(), ActorError> {
        out.emit((self.0)(x));
        Ok(())
    }
}

pub(in crate::stream) struct Filter<F>(pub(in crate::stream) Arc<F>);

impl<T, F> Stage<T, T> for Filter<F>
where
    F: Fn(&T) -> bool + Send + Sync + 'static,
{
    fn push(&mut self, x: T, out: &mut Emitter<'_, T>) -> Result<(), ActorError> {
        if (self.0)(&x) {
            out.emit(x);
        }
        Ok(())
    }
}

pub(in crate::stream) struct FilterMap<F>(pub(in crate::stream) Arc<F>);

impl<T, U, F> Stage<T, U> for FilterMap<F>
where
    F: Fn(T) -> Option<U> + Send + Sync + 'static,
{
    fn push(&mut self, x: T, out: &mut Emitter<'_, U>) -> Result<(), ActorError> {
        if let Some(y) = (self.0)(x) {
            out.emit(y);
        }
        Ok(())
    }
}

pub(in crate::stream) struct Inspect<F>(pub(in crate::stream) Arc<F>);

impl<T, F> Stage<T, T> for Inspect<F>
where
    F: Fn(&T) + Send + Sync + 'static,
{
    fn push(&mut self, x: T, out: &mut Emitter<'_, T>) -> Result<(), ActorError> {
        (self.0)(&x);
        out.emit(x);
        Ok(())
    }
}

pub(in crate::stream) struct TryMap<F>(pub(in crate::stream) Arc<F>);

impl<T, U, E, F> Stage<T, U> for TryMap<F>
where
    F: Fn(T) -> Result<U, E> + Send + Sync + 'static,
    E: Into<ActorError>,
{
    fn push(&mut self, x: T, out: &mut Emitter<'_, U>) -> Result<(), ActorError> {
        out.emit((self.0)(x).map_err(Into::into)?);
        Ok(())
    }
}

/// Passes every element (the logic of a buffer stage, whose work is its
/// credit window and overflow strategy).
pub(in crate::stream) struct Pass;

impl<T: Send + 'static> Stage<T, T> for Pass {
    fn push(&mut self, x: T, out: &mut Emitter<'_, T>) -> Result<(), ActorError> {
        out.emit(x);
        Ok(())
    }
}
