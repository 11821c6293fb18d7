//! Waiting, bounded, for an actor to stop and for a supervisor's children to be running.

use super::error::{ExpectError, WaitError};
use super::inbox::wall_deadline;
use super::probe::Probe;
use crate::sync::thread;
use crate::{Addr, AskError, ChildInfo, Supervisor, System, Target, Terminated};
use std::time::{Duration, Instant};

/// Waits until `target` has stopped for good and returns its [`Terminated`]
/// notice (at once if it already has). A restart by a supervisor is not a
/// stop.
///
/// # Errors
/// [`WaitError::Timeout`] if it is still running after `within`;
/// [`WaitError::Spawn`] or [`WaitError::Closed`] if the system is shutting
/// down.
///
/// # Examples
///
/// ```
/// use playhouse::testkit::await_stopped;
/// use playhouse::{Actor, ActorError, Context, ExitReason, System};
/// use std::time::Duration;
///
/// struct Once;
/// impl Actor for Once {
///     type Msg = ();
///     fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
///         ctx.stop();
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let once = system.spawn(|| Once)?;
/// once.tell(())?;
/// let t = await_stopped(&system, &once, Duration::from_secs(5))?;
/// assert_eq!(t.reason, ExitReason::Normal);
/// assert!(!once.is_alive());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn await_stopped<N, T>(
    system: &System,
    target: &T,
    within: Duration,
) -> Result<Terminated, WaitError>
where
    T: Target<N> + Clone + Send + 'static,
{
    let probe = Probe::<()>::new(system).map_err(WaitError::Spawn)?;
    probe.watch(target);
    match probe.expect_terminated(target, within) {
        Ok(t) => Ok(t),
        Err(ExpectError::Timeout { .. }) => Err(WaitError::Timeout {
            waiting_for: format!("actor #{} to stop", target.target_id()),
            within,
            last_seen: "still running".to_owned(),
        }),
        Err(_) => Err(WaitError::Closed),
    }
}

/// Asks `supervisor` for its children until `ready` accepts them, and
/// returns them. Between asks it pauses briefly, so this is for "eventually"
/// checks (a restart under way, a backoff that has to pass).
///
/// # Errors
/// [`WaitError::Timeout`] with the last answer, or [`WaitError::Ask`] if the
/// supervisor stopped.
///
/// # Examples
///
/// ```
/// use playhouse::testkit::await_children;
/// use playhouse::{Actor, ActorError, ChildSpec, Context, Supervisor, System};
/// use std::time::Duration;
///
/// struct Worker;
/// impl Actor for Worker {
///     type Msg = ();
///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
///         Err("failed".into())
///     }
/// }
///
/// let system = System::new();
/// let sup = Supervisor::builder().child(ChildSpec::new("w", || Worker)).spawn(&system)?;
/// await_children(&sup, Duration::from_secs(5), |c| c[0].running)?;
/// sup.child::<Worker>("w").expect("running").tell(())?;
/// let children = await_children(&sup, Duration::from_secs(5), |c| {
///     c[0].restarts == 1 && c[0].running
/// })?;
/// assert_eq!(children[0].name, "w");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn await_children(
    supervisor: &Addr<Supervisor>,
    within: Duration,
    mut ready: impl FnMut(&[ChildInfo]) -> bool,
) -> Result<Vec<ChildInfo>, WaitError> {
    let deadline = wall_deadline(within);
    let mut pause = Duration::from_micros(50);
    let mut last_seen = "no answer".to_owned();
    let timeout = |last_seen: String| WaitError::Timeout {
        waiting_for: "the supervisor's children to be ready".to_owned(),
        within,
        last_seen,
    };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let children = match supervisor.children(left) {
            Ok(children) => children,
            // Our own deadline ran out during the ask.
            Err(AskError::Timeout) if Instant::now() >= deadline => {
                return Err(timeout(last_seen));
            }
            Err(e) => return Err(WaitError::Ask(e)),
        };
        if ready(&children) {
            return Ok(children);
        }
        last_seen = format!("{children:?}");
        if Instant::now() >= deadline {
            return Err(timeout(last_seen));
        }
        sleep(pause.min(left));
        pause = (pause * 2).min(Duration::from_millis(5));
    }
}

/// Waits until every child of `supervisor` has a running instance, and
/// returns them.
///
/// # Errors
/// As [`await_children`].
///
/// # Examples
///
/// ```
/// use playhouse::testkit::await_children_running;
/// use playhouse::{Actor, ActorError, ChildSpec, Context, Supervisor, System};
/// use std::time::Duration;
///
/// struct Worker;
/// impl Actor for Worker {
///     type Msg = ();
///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
/// }
///
/// let system = System::new();
/// let sup = Supervisor::builder()
///     .child(ChildSpec::new("a", || Worker))
///     .child(ChildSpec::new("b", || Worker))
///     .spawn(&system)?;
/// let children = await_children_running(&sup, Duration::from_secs(5))?;
/// assert!(children.iter().all(|c| c.running));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn await_children_running(
    supervisor: &Addr<Supervisor>,
    within: Duration,
) -> Result<Vec<ChildInfo>, WaitError> {
    await_children(supervisor, within, |c| c.iter().all(|c| c.running))
}

/// A short pause between two polls (loom has no sleep: it yields).
fn sleep(d: Duration) {
    #[cfg(not(loom))]
    thread::sleep(d);
    #[cfg(loom)]
    {
        let _ = d;
        thread::yield_now();
    }
}
