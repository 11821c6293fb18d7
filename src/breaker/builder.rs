//! [`CircuitBreakerBuilder`]: how a breaker actor classifies answers, whom
//! it reports to, and its spawn options.

use super::actor::{CircuitBreaker, Settings, Source};
use super::config::BreakerConfig;
use super::events::{BreakerEvent, Listeners};
use crate::sync::Arc;
use crate::{Addr, Recipient, SpawnError, SpawnOptions, System};
use std::fmt;

/// Builds a [`CircuitBreaker`]: how to classify answers, who hears about
/// transitions, and the actor's spawn options.
pub struct CircuitBreakerBuilder<Req, T, E>
where
    Req: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    settings: Settings<Req, T, E>,
    options: SpawnOptions,
}

impl<Req, T, E> CircuitBreakerBuilder<Req, T, E>
where
    Req: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    pub(super) fn new(config: BreakerConfig, source: Source<Req, T, E>) -> Self {
        CircuitBreakerBuilder {
            settings: Settings {
                config,
                source,
                ignore: None,
                fail_if: None,
                listeners: Listeners::new(),
                publish: None,
                publish_calls: true,
            },
            options: SpawnOptions::new(),
        }
    }

    /// Errors for which `ignore` is true count neither as failures nor as
    /// successes (the caller still gets them); an ignored probe frees its
    /// place for another.
    pub fn ignore_errors(mut self, ignore: impl Fn(&E) -> bool + Send + Sync + 'static) -> Self {
        self.settings.ignore = Some(Arc::new(ignore));
        self
    }

    /// Success values for which `failed` is true count as failures (the caller
    /// still gets the value), as Akka's `defineFailureFn`.
    pub fn failure_if(mut self, failed: impl Fn(&T) -> bool + Send + Sync + 'static) -> Self {
        self.settings.fail_if = Some(Arc::new(failed));
        self
    }

    /// Callbacks for transitions and call outcomes.
    pub fn listeners(mut self, listeners: Listeners) -> Self {
        self.settings.listeners = listeners;
        self
    }

    /// Sends every [`BreakerEvent`] to `to`, for example an event bus's
    /// [`publisher`](crate::Addr::publisher), with the backpressure of
    /// [`crate::Context::send`].
    pub fn publish_to(mut self, to: Recipient<BreakerEvent>) -> Self {
        self.settings.publish = Some(to);
        self
    }

    /// Whether call outcomes are published as well as transitions (default
    /// true).
    pub fn publish_calls(mut self, yes: bool) -> Self {
        self.settings.publish_calls = yes;
        self
    }

    /// Registers the breaker under `name` (see [`System::lookup`]).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.options = self.options.name(name);
        self
    }

    /// The breaker's mailbox capacity (at least 1; default the system's).
    pub fn mailbox_capacity(mut self, capacity: usize) -> Self {
        self.options = self.options.mailbox_capacity(capacity);
        self
    }

    /// A factory of fresh breakers with these settings, for
    /// [`crate::ChildSpec::new`] or [`crate::Context::spawn`] (spawn options set
    /// on this builder do not apply there). Each breaker starts closed.
    pub fn factory(&self) -> impl Fn() -> CircuitBreaker<Req, T, E> + Send + Sync + 'static {
        let settings = self.settings.clone();
        move || CircuitBreaker::new(settings.clone())
    }

    /// Spawns the breaker as a top-level actor (a guarded operation's threads
    /// are owned by a child of it, and stop with it).
    ///
    /// # Errors
    /// As [`System::spawn_with`].
    pub fn spawn(self, system: &System) -> Result<Addr<CircuitBreaker<Req, T, E>>, SpawnError> {
        let factory = self.factory();
        system.spawn_with(self.options, factory)
    }
}

impl<Req, T, E> fmt::Debug for CircuitBreakerBuilder<Req, T, E>
where
    Req: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreakerBuilder")
            .field("config", &self.settings.config)
            .field("listeners", &self.settings.listeners)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}
