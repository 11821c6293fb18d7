//! The [`Actor`] trait: private state, one message at a time.

use crate::context::Context;
use crate::error::ActorError;

/// An actor: private state that handles one message at a time on the pool.
///
/// An actor is created by a factory closure given to [`crate::System::spawn`]
/// (so a supervisor can build it afresh) and is reached through its
/// [`crate::Addr`]. The runtime never runs two handlers of one actor at once, so
/// `&mut self` needs no lock.
///
/// A handler that panics or returns `Err` has *failed*: the failure is caught and
/// logged, the message goes to dead letters, and (without a supervisor) the actor
/// stops; its senders then get their messages back as `Closed`.
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Context, Reply, System};
/// use std::time::Duration;
///
/// enum Msg {
///     Add(u64),
///     Total(Reply<u64>),
/// }
///
/// struct Counter(u64);
///
/// impl Actor for Counter {
///     type Msg = Msg;
///     fn handle(&mut self, _ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
///         match msg {
///             Msg::Add(n) => self.0 += n,
///             Msg::Total(reply) => {
///                 let _ = reply.send(self.0);
///             }
///         }
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let counter = system.spawn(|| Counter(0)).unwrap();
/// for n in 1..=10 {
///     counter.tell(Msg::Add(n)).unwrap();
/// }
/// assert_eq!(counter.ask(Msg::Total, Duration::from_secs(5)), Ok(55));
/// system.shutdown().unwrap();
/// ```
pub trait Actor: Sized + Send + 'static {
    /// The messages this actor handles.
    type Msg: Send + 'static;

    /// Handles one message.
    ///
    /// # Errors
    /// An `Err` is a failure, handled like a panic (see the trait docs).
    fn handle(&mut self, ctx: &mut Context<Self>, msg: Self::Msg) -> Result<(), ActorError>;

    /// Runs once, on a worker, before the first message.
    ///
    /// # Errors
    /// An `Err` (or a panic) is a failure: the actor never handles a message.
    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        let _ = ctx;
        Ok(())
    }

    /// Runs when this instance ends other than by failing, after its children
    /// have stopped: when the actor stops for good, and when its supervisor
    /// stops it in order to start a new instance (a sibling's failure under
    /// `OneForAll` or `RestForOne`, or a `stop` of a supervised actor, whose
    /// exit its supervisor judges). A failed instance (a panic or an `Err`)
    /// is dropped without it. A panic here is logged and otherwise ignored.
    fn stopped(&mut self, ctx: &mut Context<Self>) {
        let _ = ctx;
    }
}

/// The notice a watcher gets, exactly once, when a watched actor stops for good
/// (see [`Context::watch`]). A restart by a supervisor is not a stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terminated {
    /// The id of the actor that stopped.
    pub id: u64,
    /// Its name, if it had one.
    pub name: Option<String>,
    /// Why it stopped.
    pub reason: ExitReason,
}

/// Why an actor stopped for good.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExitReason {
    /// It stopped itself or was asked to stop.
    Normal,
    /// It failed (panic or error), with the failure's description.
    Failed(String),
    /// It was a supervisor that gave up after too many restarts.
    GaveUp,
    /// Its parent, its supervisor or the system stopped it.
    Shutdown,
}
