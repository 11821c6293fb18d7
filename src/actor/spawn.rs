//! Spawn options, checked against the system's defaults, and building a cell:
//! what [`crate::System::spawn_with`] and [`crate::Context::spawn_with`] share.

use crate::actor::Actor;
use crate::actor::cell::{Cell, CellConfig, Start};
use crate::actor::context::UNREGISTERED;
use crate::error::{BuildError, SpawnError};
use crate::runtime::{AnyCell, Shared};
use crate::sync::{Arc, Ordering};
use std::time::{Duration, Instant};

/// A fresh actor id, unique in the process (not only in its system), so that
/// sends between systems never mistake one actor for another.
pub(crate) fn next_actor_id() -> u64 {
    crate::sync::process_unique_id()
}

/// Options for one actor: name, mailbox capacity and low watermark,
/// throughput, and whether it runs on a thread of its own.
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Context, SpawnOptions, System};
///
/// struct Sink;
/// impl Actor for Sink {
///     type Msg = u32;
///     fn handle(&mut self, _: &mut Context<Self>, _: u32) -> Result<(), ActorError> { Ok(()) }
/// }
///
/// let system = System::new();
/// let sink = system
///     .spawn_with(SpawnOptions::new().name("sink").mailbox_capacity(16).throughput(8), || Sink)
///     .unwrap();
/// assert_eq!(system.lookup::<Sink>("sink"), Some(sink));
/// ```
#[derive(Debug, Clone, Default)]
pub struct SpawnOptions {
    name: Option<String>,
    capacity: Option<usize>,
    throughput: Option<usize>,
    supervised: bool,
    ordered_stop: bool,
    shutdown_timeout: Option<Duration>,
    low_watermark: Option<usize>,
    dedicated: bool,
}

impl SpawnOptions {
    /// The system's defaults.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// let system = System::new();
    /// let counter = system.spawn_with(SpawnOptions::new(), || Counter(0))?; // as `spawn`
    /// assert_eq!(counter.metrics().mailbox_capacity, playhouse::DEFAULT_MAILBOX_CAPACITY);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new() -> Self {
        SpawnOptions::default()
    }

    /// Registers the actor under `name` (see [`System::lookup`](crate::System::lookup)).
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// let system = System::new();
    /// let counter = system.spawn_with(SpawnOptions::new().name("totals"), || Counter(0))?;
    /// assert_eq!(counter.name(), Some("totals"));
    /// assert_eq!(system.lookup::<Counter>("totals"), Some(counter));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The most user messages its mailbox holds (at least 1; at most
    /// 2^24 - 1, larger values are clamped).
    ///
    /// The actor gives places back to its senders in batches of a
    /// thirty-second of the capacity, so with a capacity of 64 or more a
    /// sender may find the mailbox full up to that many messages early, even
    /// while the actor is idle. A sender never waits on a mailbox with
    /// nothing queued.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// let system = System::new();
    /// let counter = system.spawn_with(SpawnOptions::new().mailbox_capacity(32), || Counter(0))?;
    /// assert_eq!(counter.metrics().mailbox_capacity, 32);
    /// assert!(system.spawn_with(SpawnOptions::new().mailbox_capacity(0), || Counter(0)).is_err());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mailbox_capacity(mut self, capacity: usize) -> Self {
        self.capacity = Some(capacity);
        self
    }

    /// The most messages it handles per turn before letting other actors run
    /// (at least 1). On the pool a long handler holds its worker for the
    /// whole turn, so `throughput` times the handler's time is how long other
    /// actors on that worker may wait; an actor whose handlers block belongs
    /// on a [`dedicated_thread`](SpawnOptions::dedicated_thread).
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// use playhouse::SpawnError;
    ///
    /// let system = System::new();
    /// // At most 4 messages per turn, then other actors on its worker get a turn.
    /// let counter = system.spawn_with(SpawnOptions::new().throughput(4), || Counter(0))?;
    /// counter.tell(Msg::Add(1))?;
    /// assert_eq!(counter.ask(Msg::Total, t)?, 1);
    /// let err = system.spawn_with(SpawnOptions::new().throughput(0), || Counter(0)).unwrap_err();
    /// assert!(matches!(err, SpawnError::Config(e) if e.setting() == Some("throughput")));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn throughput(mut self, throughput: usize) -> Self {
        self.throughput = Some(throughput);
        self
    }

    /// Links the child to its parent as a supervised child (children only,
    /// see [`crate::Context::spawn_with`]): when an instance ends (a failure,
    /// a `stop`) the child keeps its mailbox and address, reports
    /// [`crate::ChildEvent::Exited`] to its parent's
    /// [`crate::Actor::on_child`], and waits for the parent to restart it
    /// with a fresh instance from its factory, or to stop it. It also
    /// reports each successful start.
    ///
    /// See [`crate::Actor::on_child`] for an example.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// use playhouse::SpawnError;
    ///
    /// let system = System::new();
    /// // A top-level actor has no parent to supervise it.
    /// let err = system.spawn_with(SpawnOptions::new().supervised(), || Counter(0)).unwrap_err();
    /// assert!(matches!(err, SpawnError::Config(_)));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn supervised(mut self) -> Self {
        self.supervised = true;
        self
    }

    /// When the actor stops (or halts), its children stop one at a time,
    /// newest first, each after the previous one has stopped (OTP's
    /// supervisor shutdown order), instead of all at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, SpawnOptions, System};
    /// use std::sync::mpsc;
    /// use std::time::Duration;
    ///
    /// struct Child(&'static str, mpsc::Sender<&'static str>);
    /// impl Actor for Child {
    ///     type Msg = ();
    ///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
    ///     fn stopped(&mut self, _: &mut Context<Self>) {
    ///         let _ = self.1.send(self.0);
    ///     }
    /// }
    ///
    /// struct Parent(mpsc::Sender<&'static str>);
    /// impl Actor for Parent {
    ///     type Msg = ();
    ///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
    ///         for name in ["db", "cache", "api"] {
    ///             let out = self.0.clone();
    ///             ctx.spawn(move || Child(name, out.clone()))?;
    ///         }
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
    /// }
    ///
    /// let (tx, stops) = mpsc::channel();
    /// let system = System::new();
    /// let parent = system.spawn_with(SpawnOptions::new().ordered_stop(), move || Parent(tx.clone()))?;
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// parent.stop();
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// let order: Vec<_> = stops.try_iter().collect();
    /// assert_eq!(order, ["api", "cache", "db"]); // newest first, one at a time
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ordered_stop(mut self) -> Self {
        self.ordered_stop = true;
        self
    }

    /// How long its parent, when the parent stops, waits for this actor to
    /// stop before abandoning it with an error log (default: as long as it
    /// takes). Children only.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Addr, Context, SpawnOptions, System};
    /// use std::time::Duration;
    ///
    /// struct Worker;
    /// impl Actor for Worker {
    ///     type Msg = ();
    ///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
    /// }
    ///
    /// struct Parent(Option<Addr<Worker>>);
    /// impl Actor for Parent {
    ///     type Msg = ();
    ///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
    ///         // When the parent stops, it waits at most a second for this child.
    ///         let options = SpawnOptions::new().name("worker").shutdown_timeout(Duration::from_secs(1));
    ///         self.0 = Some(ctx.spawn_with(options, || Worker)?);
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
    /// }
    ///
    /// let system = System::new();
    /// let parent = system.spawn(|| Parent(None))?;
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// let worker = system.lookup::<Worker>("worker").expect("spawned by its parent");
    /// parent.stop();
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// assert!(!worker.is_alive());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = Some(timeout);
        self
    }

    pub(crate) fn is_supervised(&self) -> bool {
        self.supervised
    }

    /// The queue length at which actors suspended on this actor's full
    /// mailbox resume, and blocked outside senders wake (default: half the
    /// capacity). The high watermark is the capacity itself. Lower keeps
    /// senders suspended longer and wakes them less often; higher lets them
    /// in sooner.
    ///
    /// Must be below the capacity: otherwise the spawn fails with
    /// [`SpawnError::Config`](crate::SpawnError::Config).
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// use playhouse::SpawnError;
    ///
    /// let system = System::new();
    /// // Suspended senders resume once the mailbox is down to 2 of its 8 places.
    /// system.spawn_with(SpawnOptions::new().mailbox_capacity(8).low_watermark(2), || Counter(0))?;
    /// let err = system
    ///     .spawn_with(SpawnOptions::new().mailbox_capacity(8).low_watermark(8), || Counter(0))
    ///     .unwrap_err();
    /// assert!(matches!(err, SpawnError::Config(e) if e.setting() == Some("low watermark")));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn low_watermark(mut self, low: usize) -> Self {
        self.low_watermark = Some(low);
        self
    }

    /// Runs the actor on a thread of its own instead of the pool (Akka's
    /// pinned dispatcher, actix's `SyncArbiter`): for handlers that block on
    /// file or network I/O, sleeps or long-held locks. Everything else is as
    /// on the pool: the same mailbox and backpressure (its `tell`s and
    /// `ctx.send`s park and suspend it rather than block), supervision, watch
    /// and shutdown. The thread, named `{system}-pin-{n}`, waits between
    /// turns and ends with the actor. Being no pool worker, it may block:
    /// [`Addr::ask`](crate::Addr::ask) from its handlers waits for the
    /// answer there.
    ///
    /// On the pool a handler holds its worker until it returns, and a turn
    /// handles up to [`throughput`](SpawnOptions::throughput) messages, so a
    /// handler that blocks for `d` delays other actors by up to
    /// `throughput × d` per worker it holds; with as many blocking actors as
    /// workers, nothing else runs. Give such an actor its own thread; keep
    /// the pool for handlers that compute and return.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, SpawnOptions, System};
    /// use std::time::Duration;
    ///
    /// struct Writer;
    /// impl Actor for Writer {
    ///     type Msg = String;
    ///     fn handle(&mut self, _: &mut Context<Self>, line: String) -> Result<(), ActorError> {
    ///         std::thread::sleep(Duration::from_millis(1)); // stands for a blocking write
    ///         let _ = line;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let writer = system.spawn_with(SpawnOptions::new().dedicated_thread(), || Writer)?;
    /// writer.tell("hello".into())?;
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dedicated_thread(mut self) -> Self {
        self.dedicated = true;
        self
    }
}

impl Shared {
    /// Starts a dedicated thread for an actor about to be built, after
    /// joining those whose actors have ended.
    fn start_runner(&self) -> Result<crate::dedicated::RunnerHandle, SpawnError> {
        if self.is_closing() {
            return Err(SpawnError::SystemStopped);
        }
        if self.sim.is_some() {
            return Err(SpawnError::NotSimulated("a dedicated thread"));
        }
        let mut runners = self.runners.lock();
        let (done, live): (Vec<_>, Vec<_>) = std::mem::take(&mut *runners)
            .into_iter()
            .partition(|r| r.runner.wait_exited(Some(Instant::now())));
        *runners = live;
        let name = format!("{}-pin-{}", self.prefix, next_actor_id());
        let (handle, started) = crate::dedicated::start(self, name)
            .map_err(|e| SpawnError::Config(BuildError::thread(e)))?;
        runners.push(started);
        drop(runners);
        for r in done {
            // It left its loop: the join is immediate.
            let _ = r.thread.join();
        }
        Ok(handle)
    }

    /// The configuration of an actor spawned with the defaults: what
    /// [`Shared::cell_config`] makes of `SpawnOptions::new()`, without
    /// checking again the defaults the system was built with (a zero
    /// capacity or throughput fails that build).
    pub(crate) fn default_config(&self) -> CellConfig {
        debug_assert!(self.capacity > 0 && self.throughput > 0);
        CellConfig {
            capacity: self.capacity,
            throughput: self.throughput,
            supervised: false,
            ordered_stop: false,
            shutdown_timeout: None,
            low_watermark: None,
            dedicated: None,
        }
    }

    /// Checks spawn options against the system's defaults.
    pub(crate) fn cell_config(
        &self,
        options: SpawnOptions,
    ) -> Result<(Option<String>, CellConfig), SpawnError> {
        let capacity = options.capacity.unwrap_or(self.capacity);
        let throughput = options.throughput.unwrap_or(self.throughput);
        if capacity == 0 {
            return Err(BuildError::zero("mailbox capacity").into());
        }
        if throughput == 0 {
            return Err(BuildError::zero("throughput").into());
        }
        let low_watermark = match options.low_watermark {
            Some(low) if low >= capacity.min(crate::mailbox::MAX_CAPACITY) => {
                return Err(BuildError::watermark(low, capacity).into());
            }
            low => low,
        };
        let config = CellConfig {
            capacity,
            throughput,
            supervised: options.supervised,
            ordered_stop: options.ordered_stop,
            shutdown_timeout: options.shutdown_timeout,
            low_watermark,
            dedicated: if options.dedicated {
                Some(self.start_runner()?)
            } else {
                None
            },
        };
        Ok((options.name, config))
    }

    /// Builds a cell; the caller submits it to the pool.
    ///
    /// A named cell is registered here, since a taken name must refuse the
    /// spawn. An unnamed one is registered by its first turn, on a worker
    /// ([`Shared::register`]): the registry's lock, slot and reference then
    /// cost the spawning thread nothing, which is what bounds the rate of a
    /// thread spawning many actors. Until then the actor is counted
    /// alive and its start in flight, so shutdown, which waits for quiescence
    /// before it looks at the registry, finds it registered; one that
    /// registers after shutdown has looked is stopped by its first turn.
    pub(crate) fn spawn_cell<A: Actor>(
        self: &Arc<Self>,
        name: Option<String>,
        config: CellConfig,
        start: impl FnOnce() -> Start<A>,
        parent: Option<Arc<dyn AnyCell>>,
    ) -> Result<Arc<Cell<A>>, SpawnError> {
        if self.is_closing() {
            return Err(SpawnError::SystemStopped);
        }
        // User code (a factory) runs here, before the registry is locked.
        let start = start();
        let id = next_actor_id();
        let cell = match name.map(Arc::<str>::from) {
            None => Cell::new(self.clone(), id, UNREGISTERED, None, config, start, parent),
            Some(n) => {
                let mut reg = self.registry.lock();
                if reg.sealed {
                    return Err(SpawnError::SystemStopped);
                }
                if reg.names.contains_key(&n) {
                    return Err(SpawnError::NameTaken(n.to_string()));
                }
                let slot = reg.take_slot::<Cell<A>>();
                let cell = Cell::new(
                    self.clone(),
                    id,
                    slot,
                    Some(n.clone()),
                    config,
                    start,
                    parent,
                );
                reg.names.insert(n, slot);
                reg.store(slot, cell.clone());
                cell
            }
        };
        // ORDERING: Relaxed; read under `quiet` or as a statistic; the decrement
        // in `actor_stopped` is ordered after this by the actor's own start.
        self.alive.fetch_add(1, Ordering::Relaxed);
        Ok(cell)
    }
}
