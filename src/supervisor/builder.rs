//! [`SupervisorBuilder`]: a supervisor's strategy, intensity, backoff and children, checked when built.

use super::server::{Boot, Supervisor, ask_ready};
use super::spec::{ChildSpec, Entry};
use crate::sync::{Arc, Mutex};
use crate::{Actor, Addr, AskError, BuildError, SpawnOptions, SupervisorError, System};
use std::collections::HashSet;
use std::fmt;
use std::time::Duration;

/// Which children restart when one exits and must be restarted.
///
/// # Examples
///
/// ```
/// use playhouse::testkit::await_children;
/// use playhouse::{ChildSpec, Strategy, Supervisor, SupervisorExt, System};
/// use std::time::Duration;
/// # use playhouse::{Actor, ActorError, Context};
/// # struct Worker;
/// # impl Actor for Worker {
/// #     type Msg = u32;
/// #     fn handle(&mut self, _: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
/// #         if n == 0 { return Err("zero".into()); }
/// #         Ok(())
/// #     }
/// # }
///
/// const T: Duration = Duration::from_secs(5);
/// let system = System::new();
/// // "cache" depends on "db": when db restarts, cache restarts after it.
/// let sup = Supervisor::builder()
///     .strategy(Strategy::RestForOne)
///     .intensity(5, Duration::from_secs(10))
///     .child(ChildSpec::new("db", || Worker))
///     .child(ChildSpec::new("cache", || Worker))
///     .spawn(&system)?;
/// sup.child::<Worker>("db").expect("started").tell(0)?; // db fails
/// let children = await_children(&sup, T, |c| c[0].restarts == 1 && c[1].restarts == 1 && c[1].running)?;
/// assert_eq!(children[1].name, "cache");
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Supervisor, SupervisorExt, System};
    /// use std::time::Duration;
    ///
    /// let system = System::new();
    /// let sup = Supervisor::builder().spawn(&system)?; // no children yet
    /// assert!(sup.children(Duration::from_secs(5))?.is_empty());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::testkit::await_children;
    /// use playhouse::{ChildSpec, Strategy, Supervisor, SupervisorExt, System};
    /// use std::time::Duration;
    /// # use playhouse::{Actor, ActorError, Context};
    /// # struct Worker;
    /// # impl Actor for Worker {
    /// #     type Msg = u32;
    /// #     fn handle(&mut self, _: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
    /// #         if n == 0 { return Err("zero".into()); }
    /// #         Ok(())
    /// #     }
    /// # }
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let sup = Supervisor::builder()
    ///     .strategy(Strategy::OneForAll) // one fails, both restart
    ///     .intensity(5, Duration::from_secs(10))
    ///     .child(ChildSpec::new("a", || Worker))
    ///     .child(ChildSpec::new("b", || Worker))
    ///     .spawn(&system)?;
    /// sup.child::<Worker>("b").expect("started").tell(0)?;
    /// await_children(&sup, T, |c| c.iter().all(|c| c.restarts == 1 && c.running))?;
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// At most `max_restarts` restarts within `period` (default 1 in 5 s, as
    /// in OTP); one more makes the supervisor give up. Zero restarts is valid:
    /// any exit that calls for a restart gives up.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::testkit::await_stopped;
    /// use playhouse::{ChildSpec, Supervisor, SupervisorExt, System};
    /// use std::time::Duration;
    /// # use playhouse::{Actor, ActorError, Context};
    /// # struct Worker;
    /// # impl Actor for Worker {
    /// #     type Msg = u32;
    /// #     fn handle(&mut self, _: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
    /// #         if n == 0 { return Err("zero".into()); }
    /// #         Ok(())
    /// #     }
    /// # }
    ///
    /// let system = System::new();
    /// // No restart allowed: the first failure makes the supervisor give up.
    /// let sup = Supervisor::builder()
    ///     .intensity(0, Duration::from_secs(5))
    ///     .child(ChildSpec::new("w", || Worker))
    ///     .spawn(&system)?;
    /// sup.child::<Worker>("w").expect("started").tell(0)?;
    /// let t = await_stopped(&system, &sup, Duration::from_secs(5))?;
    /// assert_eq!(t.reason, playhouse::ExitReason::GaveUp);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn intensity(mut self, max_restarts: u32, period: Duration) -> Self {
        self.max_restarts = max_restarts;
        self.period = period;
        self
    }

    /// Delays each restart: `min` for the first within the intensity period,
    /// doubling for each further one, at most `max` (so `min <= max`).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::testkit::{ManualClock, await_children};
    /// use playhouse::{ChildSpec, Supervisor, SupervisorExt, System};
    /// use std::time::Duration;
    /// # use playhouse::{Actor, ActorError, Context};
    /// # struct Worker;
    /// # impl Actor for Worker {
    /// #     type Msg = u32;
    /// #     fn handle(&mut self, _: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
    /// #         if n == 0 { return Err("zero".into()); }
    /// #         Ok(())
    /// #     }
    /// # }
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let clock = ManualClock::new();
    /// let system = System::builder().clock(clock.clone()).build()?;
    /// let sup = Supervisor::builder()
    ///     .intensity(3, Duration::from_secs(60))
    ///     .backoff(Duration::from_secs(1), Duration::from_secs(30))
    ///     .child(ChildSpec::new("w", || Worker))
    ///     .spawn(&system)?;
    /// sup.child::<Worker>("w").expect("started").tell(0)?;
    /// system.await_quiescent(T)?;
    /// assert!(!sup.children(T)?[0].running); // waiting out the backoff
    /// clock.advance(Duration::from_secs(1));
    /// await_children(&sup, T, |c| c[0].running && c[0].restarts == 1)?;
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.backoff = Some((min, max));
        self
    }

    /// How long [`SupervisorBuilder::spawn`] waits for the children to start
    /// (default 5 s).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{ChildSpec, Supervisor, System};
    /// use std::time::Duration;
    /// # use playhouse::{Actor, ActorError, Context};
    /// # struct Worker;
    /// # impl Actor for Worker {
    /// #     type Msg = u32;
    /// #     fn handle(&mut self, _: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
    /// #         if n == 0 { return Err("zero".into()); }
    /// #         Ok(())
    /// #     }
    /// # }
    ///
    /// let system = System::new();
    /// let sup = Supervisor::builder()
    ///     .start_timeout(Duration::from_secs(1))
    ///     .child(ChildSpec::new("w", || Worker))
    ///     .spawn(&system)?; // waits at most 1 s for "w" to start
    /// assert!(sup.is_alive());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// Appends a child; children start in the order they are added.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{ChildSpec, Supervisor, SupervisorExt, System};
    /// use std::time::Duration;
    /// # use playhouse::{Actor, ActorError, Context};
    /// # struct Worker;
    /// # impl Actor for Worker {
    /// #     type Msg = u32;
    /// #     fn handle(&mut self, _: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
    /// #         if n == 0 { return Err("zero".into()); }
    /// #         Ok(())
    /// #     }
    /// # }
    ///
    /// let system = System::new();
    /// let sup = Supervisor::builder()
    ///     .child(ChildSpec::new("first", || Worker))
    ///     .child(ChildSpec::new("second", || Worker))
    ///     .spawn(&system)?;
    /// let names: Vec<String> = sup.children(Duration::from_secs(5))?.into_iter().map(|c| c.name).collect();
    /// assert_eq!(names, ["first", "second"]); // start order
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn child<A: Actor>(mut self, spec: ChildSpec<A>) -> Self {
        self.children.push(spec.entry);
        self
    }

    /// Registers the supervisor under `name` (see [`System::lookup`]); its
    /// children are registered as `name/child`.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Addr, ChildSpec, Supervisor, System};
    /// # use playhouse::{Actor, ActorError, Context};
    /// # struct Worker;
    /// # impl Actor for Worker {
    /// #     type Msg = u32;
    /// #     fn handle(&mut self, _: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
    /// #         if n == 0 { return Err("zero".into()); }
    /// #         Ok(())
    /// #     }
    /// # }
    ///
    /// let system = System::new();
    /// let _sup = Supervisor::builder()
    ///     .name("workers")
    ///     .child(ChildSpec::new("w1", || Worker))
    ///     .spawn(&system)?;
    /// assert!(system.lookup::<Supervisor>("workers").is_some());
    /// let w1: Option<Addr<Worker>> = system.lookup("workers/w1");
    /// assert!(w1.is_some());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{ActorError, ChildSpec, Supervisor, SupervisorError, System};
    /// # use playhouse::{Actor, Context};
    /// # struct Worker;
    /// # impl Actor for Worker {
    /// #     type Msg = ();
    /// #     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
    /// # }
    ///
    /// /// Cannot start: its `started` fails.
    /// struct Broken;
    /// impl Actor for Broken {
    ///     type Msg = ();
    ///     fn started(&mut self, _: &mut Context<Self>) -> Result<(), ActorError> {
    ///         Err("no database".into())
    ///     }
    ///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
    /// }
    ///
    /// let system = System::new();
    /// let err = Supervisor::builder()
    ///     .child(ChildSpec::new("ok", || Worker))
    ///     .child(ChildSpec::new("broken", || Broken))
    ///     .spawn(&system)
    ///     .unwrap_err();
    /// assert!(matches!(err, SupervisorError::ChildStart { ref child, .. } if child == "broken"));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
