//! Deterministic simulation: a [`System`] whose actors run on the test's own
//! thread, one turn at a time, in an order drawn from a seed.

use crate::error::BuildError;
use crate::runtime::sim::{Event, Jump, MAX_STEPS, Stepped};
use crate::timer::ManualClock;
use crate::{System, SystemBuilder};
use std::fmt;
use std::ops::Deref;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

/// The environment variable [`simulate`] reads: when set to a seed, only
/// that seed runs (to replay a failure).
///
/// # Examples
///
/// ```
/// use playhouse::testkit::SEED_VAR;
///
/// // PLAYHOUSE_SEED=1234 cargo test my_test   # replays seed 1234 only
/// assert_eq!(SEED_VAR, "PLAYHOUSE_SEED");
/// ```
pub const SEED_VAR: &str = "PLAYHOUSE_SEED";

/// A simulated actor system: every actor runs on the thread that drives it,
/// one turn per step, the next turn drawn from a generator seeded with
/// [`Simulation::seed`]. One program under one seed runs the same way every
/// time; other seeds explore other orders.
///
/// It dereferences to the [`System`], so actors are spawned and addressed as
/// usual. Nothing runs until the simulation is driven: by
/// [`Simulation::run_until_idle`], [`Simulation::run`],
/// [`Simulation::run_for`] or [`Simulation::step`], or by a call that would
/// block a thread outside the pool ([`Addr::ask`](crate::Addr::ask), a
/// [`tell`](crate::Addr::tell) into a full mailbox,
/// [`await_quiescent`](System::await_quiescent), shutdown), which runs steps
/// until it can go on, and fails with its error (for an ask,
/// [`AskError::Stalled`](crate::AskError::Stalled)) instead of hanging when
/// nothing is left to run.
///
/// Time is a [`ManualClock`] that moves only when the simulation is idle and
/// allowed to jump to the next deadline ([`Simulation::run`],
/// [`Simulation::run_for`], an ask waiting for its answer) or when the test
/// advances it ([`Simulation::clock`]). A timer entry that is due fires at a
/// seeded point among the turns that are ready.
///
/// What needs real threads is refused:
/// [`SpawnOptions::dedicated_thread`](crate::SpawnOptions::dedicated_thread)
/// fails with [`SpawnError::NotSimulated`](crate::SpawnError::NotSimulated).
///
/// # Examples
///
/// ```
/// use playhouse::testkit::Simulation;
/// use playhouse::{Actor, ActorError, Context, Reply};
/// use std::time::Duration;
///
/// enum Msg { Add(u64), Get(Reply<u64>) }
/// struct Counter(u64);
/// impl Actor for Counter {
///     type Msg = Msg;
///     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
///         match msg {
///             Msg::Add(n) => self.0 += n,
///             Msg::Get(reply) => { let _ = reply.send(self.0); }
///         }
///         Ok(())
///     }
/// }
///
/// let sim = Simulation::new(7);
/// let counter = sim.spawn(|| Counter(0))?;
/// counter.tell(Msg::Add(2))?;
/// counter.tell(Msg::Add(3))?;
/// // The ask runs the simulation on this thread until the answer comes.
/// assert_eq!(counter.ask(Msg::Get, Duration::from_secs(1))?, 5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Simulation {
    system: System,
    seed: u64,
}

impl Simulation {
    /// A simulated system with the default settings, scheduled by `seed`.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::SpawnOptions;
    /// use playhouse::testkit::{Simulation, TraceKind};
    /// # use playhouse::{Actor, ActorError, Context, Reply};
    /// # enum Msg { Add(u64), Get(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Get(r) => { let _ = r.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    ///
    /// // Two actors busy at once: the seed decides whose turn comes when.
    /// let order = |seed| {
    ///     let sim = Simulation::new(seed);
    ///     for name in ["a", "b"] {
    ///         let c = sim.spawn_with(SpawnOptions::new().name(name).throughput(1), || Counter(0)).unwrap();
    ///         for n in 0..3 {
    ///             c.tell(Msg::Add(n)).unwrap();
    ///         }
    ///     }
    ///     sim.run_until_idle();
    ///     sim.trace().into_iter().filter_map(|s| match s.kind {
    ///         TraceKind::Turn { name, messages: 1.., .. } => name,
    ///         _ => None,
    ///     }).collect::<Vec<String>>()
    /// };
    /// assert_eq!(order(42), order(42)); // the same seed, the same run
    /// assert_eq!(order(42).len(), 6);
    /// ```
    pub fn new(seed: u64) -> Simulation {
        Simulation::with_builder(seed, System::builder()).expect("the default settings are valid")
    }

    /// A simulated system with the settings of `builder` (its worker count
    /// is ignored: a simulation has one, the driving thread; a clock given to
    /// [`SystemBuilder::clock`] becomes the simulation's).
    ///
    /// # Errors
    /// A zero mailbox capacity or throughput.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::System;
    /// use playhouse::testkit::Simulation;
    /// use std::time::Duration;
    /// # use playhouse::{Actor, ActorError, Context, Reply};
    /// # enum Msg { Add(u64), Get(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Get(r) => { let _ = r.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    ///
    /// let sim = Simulation::with_builder(1, System::builder().mailbox_capacity(4).throughput(1))?;
    /// let c = sim.spawn(|| Counter(0))?;
    /// c.tell(Msg::Add(2))?;
    /// assert_eq!(c.ask(Msg::Get, Duration::from_secs(1))?, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_builder(seed: u64, builder: SystemBuilder) -> Result<Simulation, BuildError> {
        Ok(Simulation {
            system: builder.build_simulated(seed)?,
            seed,
        })
    }

    /// The seed this simulation was built with.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::testkit::Simulation;
    ///
    /// assert_eq!(Simulation::new(99).seed(), 99);
    /// ```
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The simulated system.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::testkit::Simulation;
    /// # use playhouse::{Actor, ActorError, Context, Reply};
    /// # enum Msg { Add(u64), Get(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Get(r) => { let _ = r.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    ///
    /// let sim = Simulation::new(3);
    /// let c = sim.system().spawn(|| Counter(0))?; // the same as sim.spawn (Deref)
    /// c.tell(Msg::Add(1))?;
    /// sim.run_until_idle();
    /// assert_eq!(sim.system().metrics().messages_handled, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn system(&self) -> &System {
        &self.system
    }

    /// The simulation's clock; advancing it makes the entries it passes due.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::testkit::Simulation;
    /// use std::time::Duration;
    ///
    /// let sim = Simulation::new(5);
    /// let t0 = sim.clock().now();
    /// sim.run_for(Duration::from_secs(3)); // simulated time, no waiting
    /// assert_eq!(sim.clock().now() - t0, Duration::from_secs(3));
    /// ```
    pub fn clock(&self) -> &ManualClock {
        self.sim().clock()
    }

    /// Runs one step: a due timer or a ready turn. Time does not move.
    /// Returns `false` if nothing was ready or due.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::testkit::Simulation;
    /// # use playhouse::{Actor, ActorError, Context, Reply};
    /// # enum Msg { Add(u64), Get(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Get(r) => { let _ = r.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    ///
    /// let sim = Simulation::new(8);
    /// let c = sim.spawn(|| Counter(0))?;
    /// sim.run_until_idle();
    /// assert!(!sim.step()); // nothing ready
    /// c.tell(Msg::Add(1))?;
    /// assert!(sim.step()); // the counter's turn
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn step(&self) -> bool {
        self.system.sim_step(Jump::No) == Stepped::Ran
    }

    /// Runs steps until nothing is ready and no timer is due (the system is
    /// quiescent; time has not moved). Returns the steps run.
    ///
    /// # Panics
    /// If the actors never go quiet (a livelock: a million steps ran).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::testkit::Simulation;
    /// # use playhouse::{Actor, ActorError, Context, Reply};
    /// # enum Msg { Add(u64), Get(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Get(r) => { let _ = r.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    ///
    /// let sim = Simulation::new(11);
    /// let c = sim.spawn(|| Counter(0))?;
    /// for n in 0..10 {
    ///     c.tell(Msg::Add(n))?;
    /// }
    /// assert!(sim.run_until_idle() >= 1);
    /// assert_eq!(sim.run_until_idle(), 0); // already idle
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run_until_idle(&self) -> u64 {
        self.drive(Jump::No)
    }

    /// As [`Simulation::run_until_idle`], and when idle, jumps time to the
    /// next deadline and goes on, until no timer entry is left.
    ///
    /// # Panics
    /// If it never ends (a periodic timer keeps it going for a million
    /// steps): use [`Simulation::run_for`] then.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::testkit::Simulation;
    /// use playhouse::{Actor, ActorError, Context};
    /// use std::time::Duration;
    ///
    /// /// Stops itself an hour after it starts.
    /// struct Hourglass;
    /// impl Actor for Hourglass {
    ///     type Msg = ();
    ///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
    ///         ctx.schedule_once(Duration::from_secs(3600), ());
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
    ///         ctx.stop();
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let sim = Simulation::new(2);
    /// let h = sim.spawn(|| Hourglass)?;
    /// sim.run(); // jumps the clock to the deadline: no waiting
    /// assert!(!h.is_alive());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run(&self) -> u64 {
        self.drive(Jump::Any)
    }

    /// As [`Simulation::run`] for deadlines up to `d` from now; then the
    /// clock stands `d` after where it started. Returns the steps run.
    ///
    /// # Panics
    /// As [`Simulation::run_until_idle`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::testkit::Simulation;
    /// use playhouse::{Actor, ActorError, Context, Reply};
    /// use std::time::Duration;
    ///
    /// /// Counts ticks of a periodic timer.
    /// struct Ticks(u32);
    /// impl Actor for Ticks {
    ///     type Msg = Option<Reply<u32>>;
    ///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
    ///         ctx.schedule_every(Duration::from_secs(1), || None)?;
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, _: &mut Context<Self>, m: Option<Reply<u32>>) -> Result<(), ActorError> {
    ///         match m {
    ///             None => self.0 += 1,
    ///             Some(r) => { let _ = r.send(self.0); }
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let sim = Simulation::new(4);
    /// let t = sim.spawn(|| Ticks(0))?;
    /// sim.run_for(Duration::from_secs(10)); // a periodic timer never ends: bound the run
    /// assert_eq!(t.ask(Some, Duration::from_secs(1))?, 10);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run_for(&self, d: Duration) -> u64 {
        let until = self.clock().now() + d;
        let steps = self.drive(Jump::Until(until));
        let now = self.clock().now();
        if until > now {
            self.clock().advance(until - now);
            return steps + self.drive(Jump::No);
        }
        steps
    }

    /// Steps run so far.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::testkit::Simulation;
    /// # use playhouse::{Actor, ActorError, Context, Reply};
    /// # enum Msg { Add(u64), Get(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Get(r) => { let _ = r.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    ///
    /// let sim = Simulation::new(6);
    /// let c = sim.spawn(|| Counter(0))?;
    /// c.tell(Msg::Add(1))?;
    /// let ran = sim.run_until_idle();
    /// assert!(sim.steps() >= ran);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn steps(&self) -> u64 {
        self.sim().steps()
    }

    /// The last steps (up to 64), oldest first.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::testkit::{Simulation, TraceKind};
    /// # use playhouse::{Actor, ActorError, Context, Reply};
    /// # enum Msg { Add(u64), Get(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Get(r) => { let _ = r.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    ///
    /// let sim = Simulation::new(9);
    /// let c = sim.spawn(|| Counter(0))?;
    /// c.tell(Msg::Add(1))?;
    /// sim.run_until_idle();
    /// let handled: u64 = sim.trace().iter().map(|s| match &s.kind {
    ///     TraceKind::Turn { actor, messages, .. } if *actor == Some(c.id()) => *messages,
    ///     _ => 0,
    /// }).sum();
    /// assert_eq!(handled, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn trace(&self) -> Vec<TraceStep> {
        self.sim()
            .trace()
            .into_iter()
            .map(|(step, event)| TraceStep {
                step,
                kind: match event {
                    Event::Turn { actor, messages } => {
                        let (id, name) = match actor {
                            Some((id, name)) => (Some(id), name),
                            None => (None, None),
                        };
                        TraceKind::Turn {
                            actor: id,
                            name,
                            messages,
                        }
                    }
                    Event::Timers { fired, at } => TraceKind::Timers { fired, at },
                },
            })
            .collect()
    }

    fn sim(&self) -> &crate::runtime::sim::Sim {
        self.system.sim().expect("built simulated")
    }

    fn drive(&self, jump: Jump) -> u64 {
        let before = self.steps();
        for _ in 0..MAX_STEPS {
            if self.system.sim_step(jump) == Stepped::Idle {
                return self.steps() - before;
            }
        }
        panic!(
            "simulation (seed {}) still busy after {MAX_STEPS} steps: a livelock, or a periodic timer (use run_for)",
            self.seed
        );
    }
}

impl Deref for Simulation {
    type Target = System;
    fn deref(&self) -> &System {
        &self.system
    }
}

impl fmt::Debug for Simulation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulation")
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

/// One step of a simulation, as [`Simulation::trace`] reports it.
///
/// # Examples
///
/// ```
/// use playhouse::testkit::{Simulation, TraceStep};
/// # use playhouse::{Actor, ActorError, Context, Reply};
/// # enum Msg { Add(u64), Get(Reply<u64>) }
/// # struct Counter(u64);
/// # impl Actor for Counter {
/// #     type Msg = Msg;
/// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
/// #         match msg {
/// #             Msg::Add(n) => self.0 += n,
/// #             Msg::Get(r) => { let _ = r.send(self.0); }
/// #         }
/// #         Ok(())
/// #     }
/// # }
///
/// let sim = Simulation::new(10);
/// let c = sim.spawn(|| Counter(0))?;
/// c.tell(Msg::Add(1))?;
/// sim.run_until_idle();
/// let trace: Vec<TraceStep> = sim.trace();
/// assert_eq!(trace.last().map(|s| s.step), Some(sim.steps()));
/// for s in &trace {
///     println!("{s}"); // one line per step, for a failure report
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TraceStep {
    /// The step's number, from 1.
    pub step: u64,
    /// What ran.
    pub kind: TraceKind,
}

/// What one simulated step ran.
///
/// # Examples
///
/// ```
/// use playhouse::testkit::{Simulation, TraceKind};
/// use playhouse::{Actor, ActorError, Context};
/// use std::time::Duration;
///
/// /// Wakes itself once, five seconds after it starts.
/// struct Sleeper;
/// impl Actor for Sleeper {
///     type Msg = ();
///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
///         ctx.schedule_once(Duration::from_secs(5), ());
///         Ok(())
///     }
///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
/// }
///
/// let sim = Simulation::new(12);
/// sim.spawn(|| Sleeper).unwrap();
/// sim.run();
/// let timers = sim.trace().iter().filter(|s| matches!(s.kind, TraceKind::Timers { .. })).count();
/// assert!(timers >= 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceKind {
    /// An actor's turn.
    Turn {
        /// The actor's id ([`Addr::id`](crate::Addr::id)); `None` for a task
        /// that is not an actor's.
        actor: Option<u64>,
        /// Its name, if it has one.
        name: Option<String>,
        /// User messages the turn handled.
        messages: u64,
    },
    /// Timer entries fired (delayed and periodic messages, ask timeouts...).
    Timers {
        /// How many.
        fired: usize,
        /// The simulated time since the simulation started.
        at: Duration,
    },
}

impl fmt::Display for TraceStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            TraceKind::Turn {
                actor,
                name,
                messages,
            } => {
                write!(f, "#{} turn of ", self.step)?;
                match (actor, name) {
                    (Some(id), Some(name)) => write!(f, "actor {id} {name:?}")?,
                    (Some(id), None) => write!(f, "actor {id}")?,
                    _ => f.write_str("a job")?,
                }
                write!(f, ": {messages} message(s)")
            }
            TraceKind::Timers { fired, at } => {
                write!(f, "#{} {fired} timer(s) fired at {at:?}", self.step)
            }
        }
    }
}

/// A seed under which the test of [`simulate`] panicked.
///
/// # Examples
///
/// ```
/// use playhouse::testkit::simulate;
///
/// let failure = simulate(0..10, |sim| {
///     assert!(sim.seed() < 3, "seed {} broke it", sim.seed());
/// })
/// .unwrap_err();
/// assert_eq!(failure.seed, 3); // the first failing seed; PLAYHOUSE_SEED=3 replays it
/// assert!(failure.message.contains("seed 3 broke it"));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SimFailure {
    /// The seed: `PLAYHOUSE_SEED=<seed>` replays exactly this run.
    pub seed: u64,
    /// The panic's message.
    pub message: String,
    /// The last steps before the panic, oldest first.
    pub trace: Vec<TraceStep>,
}

impl fmt::Display for SimFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "simulation failed with seed {}: {}",
            self.seed, self.message
        )?;
        writeln!(f, "replay it with {SEED_VAR}={} (same test)", self.seed)?;
        writeln!(f, "last {} steps:", self.trace.len())?;
        for step in &self.trace {
            writeln!(f, "  {step}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SimFailure {}

/// Runs `test` on a fresh [`Simulation`] for each seed of `seeds`, in order,
/// and stops at the first that panics. Returns how many seeds ran.
///
/// When the environment variable [`SEED_VAR`] (`PLAYHOUSE_SEED`) holds a
/// number, only that seed runs: set it to the seed of a failure to replay
/// it exactly (the same test, the same order of every turn and timer).
///
/// # Errors
/// [`SimFailure`]: the seed that failed, the panic's message, and the last
/// steps before it; its `Display` says how to replay it.
///
/// # Examples
///
/// A check-then-act race: two withdrawals each ask the balance, then debit.
/// Some seeds let both checks pass before either debit.
///
/// ```
/// use playhouse::testkit::simulate;
/// use playhouse::{Actor, ActorError, Addr, Context, Reply};
/// use std::time::Duration;
///
/// enum Bank { Balance(Reply<i64>), Debit(i64) }
/// struct Account(i64);
/// impl Actor for Account {
///     type Msg = Bank;
///     fn handle(&mut self, _: &mut Context<Self>, m: Bank) -> Result<(), ActorError> {
///         match m {
///             Bank::Balance(r) => { let _ = r.send(self.0); }
///             Bank::Debit(n) => self.0 -= n,
///         }
///         Ok(())
///     }
/// }
/// struct Withdraw(Addr<Account>);
/// impl Actor for Withdraw {
///     type Msg = i64;
///     fn handle(&mut self, ctx: &mut Context<Self>, n: i64) -> Result<(), ActorError> {
///         let bank = self.0.clone();
///         ctx.ask(&self.0, Bank::Balance, Duration::from_secs(1), move |_, ctx, balance| {
///             if balance.is_ok_and(|b| b >= n) {
///                 let _ = ctx.send(&bank, Bank::Debit(n));
///             }
///         })?;
///         Ok(())
///     }
/// }
///
/// let failure = simulate(0..200, |sim| {
///     let bank = sim.spawn(|| Account(100)).unwrap();
///     for _ in 0..2 {
///         let b = bank.clone();
///         sim.spawn(move || Withdraw(b.clone())).unwrap().tell(80).unwrap();
///     }
///     sim.run_until_idle();
///     let balance = bank.ask(Bank::Balance, Duration::from_secs(1)).unwrap();
///     assert!(balance >= 0, "overdrawn: {balance}");
/// })
/// .unwrap_err();
/// assert!(failure.message.contains("overdrawn"));
/// println!("{failure}"); // the seed, how to replay it, the last steps
/// ```
pub fn simulate(
    seeds: impl IntoIterator<Item = u64>,
    test: impl Fn(&Simulation),
) -> Result<u64, SimFailure> {
    let replay = std::env::var(SEED_VAR)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok());
    let seeds: Box<dyn Iterator<Item = u64>> = match replay {
        Some(seed) => Box::new(std::iter::once(seed)),
        None => Box::new(seeds.into_iter()),
    };
    let mut ran = 0;
    for seed in seeds {
        let sim = Simulation::new(seed);
        let outcome = catch_unwind(AssertUnwindSafe(|| test(&sim)));
        ran += 1;
        if let Err(payload) = outcome {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(non-string panic payload)".into());
            let failure = SimFailure {
                seed,
                message,
                trace: sim.trace(),
            };
            log::error!("{failure}");
            return Err(failure);
        }
    }
    Ok(ran)
}
