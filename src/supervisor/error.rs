//! [`SupervisorError`]: why a supervisor could not be spawned or could not add a child.

use crate::{AskError, SpawnError};
use std::error::Error;
use std::fmt;

/// Why a supervisor could not be spawned ([`super::SupervisorBuilder::spawn`])
/// or could not add a child ([`super::SupervisorExt::add_child`]).
///
/// # Examples
///
/// ```
/// use playhouse::{ChildSpec, Supervisor, SupervisorError, SupervisorExt, System};
/// use std::time::Duration;
/// # use playhouse::{Actor, ActorError, Context};
/// # struct Worker;
/// # impl Actor for Worker {
/// #     type Msg = u32;
/// #     fn handle(&mut self, ctx: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
/// #         match n { 0 => return Err("zero".into()), 1 => ctx.stop(), _ => {} }
/// #         Ok(())
/// #     }
/// # }
///
/// let system = System::new();
/// let sup = Supervisor::builder().child(ChildSpec::new("w", || Worker)).spawn(&system)?;
/// // The name is taken.
/// let err = sup.add_child(ChildSpec::new("w", || Worker), Duration::from_secs(5)).unwrap_err();
/// assert!(matches!(err, SupervisorError::Spawn(_)));
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum SupervisorError {
    /// The supervisor did not answer.
    Ask(AskError),
    /// The child could not be spawned (taken name, bad options, stopping).
    Spawn(SpawnError),
    /// A child failed its first start (its factory or `started` failed), so
    /// the supervisor stopped the children it had started and exited.
    ChildStart {
        /// The child's name.
        child: String,
        /// Its failure.
        reason: String,
    },
}

impl fmt::Display for SupervisorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SupervisorError::Ask(_) => f.write_str("supervisor did not answer"),
            SupervisorError::Spawn(_) => f.write_str("could not spawn"),
            SupervisorError::ChildStart { child, reason } => {
                write!(f, "child {child} failed to start: {reason}")
            }
        }
    }
}

impl Error for SupervisorError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            SupervisorError::Ask(e) => Some(e),
            SupervisorError::Spawn(e) => Some(e),
            SupervisorError::ChildStart { .. } => None,
        }
    }
}
