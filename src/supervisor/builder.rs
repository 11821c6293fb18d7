//! [`SupervisorBuilder`]: a supervisor's strategy, intensity, backoff and children, checked when built.

use super::server::{Boot, Supervisor, ask_ready};
use super::spec::{ChildSpec, Entry};
use crate::sync::{Arc, Mutex};
use crate::{Actor, Addr, AskError, BuildError, SpawnOptions, SupervisorError, System};
use std::collections::HashSet;
use std::fmt;
use std::time::Duration;

/// Which children restart when one exits and must be restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Only the exited child (the default, as in OTP).
    #[default]
    OneForOne,
    /// Every child: the others are halted newest first, then all restart in
    /// start order.
    OneForAll,
    /// The exited child and every child started after it.
    RestForOne,
}

/// The default time [`SupervisorBuilder::spawn`] waits for the children to
/// start.
const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds a [`Supervisor`]: its strategy, restart intensity, backoff and
/// children. It reads like the tree it makes.
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, ChildSpec, Context, Strategy, Supervisor, SupervisorExt, System};
/// use std::time::Duration;
///
/// struct Worker;
/// impl Actor for Worker {
///     type Msg = u32;
///     fn handle(&mut self, _: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
///         if n == 0 { return Err("zero".into()); } // a failure: restarted
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let root = Supervisor::builder()
///     .strategy(Strategy::OneForAll)
///     .intensity(3, Duration::from_secs(10))
///     .child(ChildSpec::new("db", || Worker))
///     .child(ChildSpec::supervisor(
///         "pool",
///         Supervisor::builder()
///             .backoff(Duration::from_millis(10), Duration::from_secs(1))
///             .child(ChildSpec::new("w1", || Worker))
///             .child(ChildSpec::new("w2", || Worker)),
///     ))
///     .name("root")
///     .spawn(&system)?;
/// // The children have started when `spawn` returns.
/// let db = root.child::<Worker>("db").expect("started");
/// assert_eq!(root.children(Duration::from_secs(5))?.len(), 2);
/// db.tell(0)?; // fails, and is restarted with its sibling tree
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SupervisorBuilder {
    pub(super) name: Option<String>,
    pub(super) strategy: Strategy,
    pub(super) max_restarts: u32,
    pub(super) period: Duration,
    pub(super) backoff: Option<(Duration, Duration)>,
    pub(super) start_timeout: Duration,
    pub(super) children: Vec<Entry>,
}

impl Supervisor {
    /// A builder with OTP's defaults: one-for-one, 1 restart in 5 s, no backoff.
    pub fn builder() -> SupervisorBuilder {
        SupervisorBuilder {
            name: None,
            strategy: Strategy::OneForOne,
            max_restarts: 1,
            period: Duration::from_secs(5),
            backoff: None,
            start_timeout: DEFAULT_START_TIMEOUT,
            children: Vec::new(),
        }
    }
}

impl SupervisorBuilder {
    /// The restart strategy (default [`Strategy::OneForOne`]).
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// At most `max_restarts` restarts within `period` (default 1 in 5 s, as
    /// in OTP); one more makes the supervisor give up. Zero restarts is valid:
    /// any exit that calls for a restart gives up.
    pub fn intensity(mut self, max_restarts: u32, period: Duration) -> Self {
        self.max_restarts = max_restarts;
        self.period = period;
        self
    }

    /// Delays each restart: `min` for the first within the intensity period,
    /// doubling for each further one, at most `max` (so `min <= max`).
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.backoff = Some((min, max));
        self
    }

    /// How long [`SupervisorBuilder::spawn`] waits for the children to start
    /// (default 5 s).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// Appends a child; children start in the order they are added.
    pub fn child<A: Actor>(mut self, spec: ChildSpec<A>) -> Self {
        self.children.push(spec.entry);
        self
    }

    /// Registers the supervisor under `name` (see [`System::lookup`]); its
    /// children are registered as `name/child`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Checks the settings, the children's and nested supervisors'.
    pub(super) fn validate(&self) -> Result<(), BuildError> {
        if self.period.is_zero() {
            return Err(BuildError::zero("restart period"));
        }
        if let Some((min, max)) = self.backoff {
            if min.is_zero() || max.is_zero() {
                return Err(BuildError::zero("backoff"));
            }
            if min > max {
                return Err(BuildError::invalid(format!(
                    "backoff minimum {min:?} above its maximum {max:?}"
                )));
            }
        }
        let mut names = HashSet::new();
        for c in &self.children {
            if !names.insert(c.name.as_str()) {
                return Err(BuildError::invalid(format!(
                    "two children named {:?}",
                    c.name
                )));
            }
            if c.capacity == Some(0) {
                return Err(BuildError::zero("mailbox capacity"));
            }
            if c.throughput == Some(0) {
                return Err(BuildError::zero("throughput"));
            }
            if let Some(e) = &c.invalid {
                return Err(BuildError::invalid(format!("child {:?}: {e}", c.name)));
            }
        }
        Ok(())
    }

    /// Spawns the supervisor as a top-level actor and starts its children in
    /// order; returns once they have all started (OTP's `start_link`), so
    /// [`super::SupervisorExt::child`] finds them at once. A nested
    /// supervisor's start is complete once its own children have started, so
    /// the whole tree is up.
    ///
    /// If a child fails its first start (its factory or `started` fails),
    /// the children started before it are stopped, newest first, the
    /// supervisor exits, and this returns the child's name and failure.
    ///
    /// Called from inside an actor (on a pool worker, which must not block)
    /// it cannot wait: it returns once the supervisor is spawned, and the
    /// children start right after.
    ///
    /// # Errors
    /// [`SupervisorError::Spawn`] with [`crate::SpawnError::Config`] for a
    /// zero period, backoff, capacity or throughput, a backoff minimum above
    /// its maximum, or two children with one name (here or in a nested
    /// supervisor); otherwise as [`System::spawn_with`].
    /// [`SupervisorError::ChildStart`] if a child failed its first start.
    /// [`SupervisorError::Ask`] with [`AskError::Timeout`] if the children
    /// did not start within the start timeout (the supervisor is stopped).
    pub fn spawn(self, system: &System) -> Result<Addr<Supervisor>, SupervisorError> {
        self.validate()
            .map_err(|e| SupervisorError::Spawn(e.into()))?;
        let mut options = SpawnOptions::new().ordered_stop();
        if let Some(name) = &self.name {
            options = options.name(name.clone());
        }
        let (tx, rx) = crossbeam_channel::bounded(1);
        // Only the first instance reports how the start went.
        let boot = Arc::new(Mutex::new(Some(tx)));
        let timeout = self.start_timeout;
        let sup = system
            .spawn_with(options, move || {
                let mut s = Supervisor::from_builder(&self);
                s.boot = boot.lock().take();
                s
            })
            .map_err(SupervisorError::Spawn)?;
        match ask_ready(&sup, timeout) {
            // Started, or it exited (its report says why).
            Ok(()) | Err(AskError::Closed | AskError::ReplyDropped) => {}
            Err(AskError::WouldBlockWorker) => return Ok(sup),
            Err(e) => {
                log::error!(
                    "supervisor {}: children not started within {timeout:?}; stopping it",
                    sup.name()
                        .map_or_else(|| format!("#{}", sup.id()), str::to_string)
                );
                sup.stop();
                return Err(SupervisorError::Ask(e));
            }
        }
        match rx.try_recv() {
            Ok(Boot::Started) => Ok(sup),
            Ok(Boot::Failed { child, reason }) => {
                Err(SupervisorError::ChildStart { child, reason })
            }
            // It stopped before it could report (its system shut down).
            Err(_) => Err(SupervisorError::Ask(AskError::Closed)),
        }
    }
}

impl fmt::Debug for SupervisorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SupervisorBuilder")
            .field("name", &self.name)
            .field("strategy", &self.strategy)
            .field("max_restarts", &self.max_restarts)
            .field("period", &self.period)
            .field("backoff", &self.backoff)
            .field("children", &self.children.len())
            .finish()
    }
}
