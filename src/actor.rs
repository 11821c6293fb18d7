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

    /// Runs once when the actor stops for good, after its children have stopped.
    /// A panic here is logged and otherwise ignored.
    fn stopped(&mut self, ctx: &mut Context<Self>) {
        let _ = ctx;
    }
}
