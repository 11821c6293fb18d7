//! [`SupervisorExt`]: what can be asked of a supervisor through its address.

use super::server::{Request, Supervisor, SupervisorMsg};
use super::spec::ChildSpec;
use crate::{Actor, Addr, AskError, BuildError, ChildInfo, SupervisorError};
use std::time::Duration;

/// Operations on a supervisor's address: its children, adding and removing
/// children at run time.
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, ChildSpec, Context, Supervisor, SupervisorExt, System};
/// use std::time::Duration;
///
/// struct Worker;
/// impl Actor for Worker {
///     type Msg = ();
///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
/// }
///
/// let system = System::new();
/// let pool = Supervisor::builder().name("pool").spawn(&system)?;
/// let w = pool.add_child(ChildSpec::new("w1", || Worker), Duration::from_secs(5))?;
/// assert_eq!(pool.child::<Worker>("w1"), Some(w));
/// assert!(pool.remove_child("w1", Duration::from_secs(5))?);
/// assert!(pool.children(Duration::from_secs(5))?.is_empty());
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait SupervisorExt {
    /// The supervisor's children in start order, with their restart counts.
    ///
    /// # Errors
    /// As [`Addr::ask`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{ChildSpec, Supervisor, SupervisorExt, System};
    /// use std::time::Duration;
    /// # use playhouse::{Actor, ActorError, Context};
    /// # struct Worker;
    /// # impl Actor for Worker {
    /// #     type Msg = ();
    /// #     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
    /// # }
    ///
    /// let system = System::new();
    /// let sup = Supervisor::builder()
    ///     .child(ChildSpec::new("a", || Worker))
    ///     .child(ChildSpec::new("b", || Worker))
    ///     .spawn(&system)?;
    /// let children = sup.children(Duration::from_secs(5))?;
    /// assert!(children.iter().all(|c| c.running && c.restarts == 0));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn children(&self, timeout: Duration) -> Result<Vec<ChildInfo>, AskError>;

    /// The address of the child named `name`, if it has an actor now and it is
    /// of type `A`. Stable across restarts.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{ChildSpec, Supervisor, SupervisorExt, System};
    /// # use playhouse::{Actor, ActorError, Context};
    /// # struct Worker;
    /// # impl Actor for Worker {
    /// #     type Msg = ();
    /// #     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
    /// # }
    ///
    /// let system = System::new();
    /// let sup = Supervisor::builder().child(ChildSpec::new("w", || Worker)).spawn(&system)?;
    /// assert!(sup.child::<Worker>("w").is_some());
    /// assert!(sup.child::<Worker>("nobody").is_none());
    /// assert!(sup.child::<Supervisor>("w").is_none()); // not of that type
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn child<A: Actor>(&self, name: &str) -> Option<Addr<A>>;

    /// Adds a child to a running supervisor and starts it (OTP's
    /// `start_child`; a pool of identical workers is many such children).
    /// Returns once the child has started (a nested supervisor: once its
    /// own children have), so [`SupervisorExt::child`] finds it, and a
    /// nested supervisor's children, at once.
    ///
    /// # Errors
    /// [`SupervisorError::Spawn`] for a taken name or bad options,
    /// [`SupervisorError::ChildStart`] if its first start failed (the child
    /// is then not kept), [`SupervisorError::Ask`] if the supervisor did not
    /// answer within `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{ChildSpec, Supervisor, SupervisorExt, System};
    /// use std::time::Duration;
    /// # use playhouse::{Actor, ActorError, Context};
    /// # struct Worker;
    /// # impl Actor for Worker {
    /// #     type Msg = ();
    /// #     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
    /// # }
    ///
    /// let system = System::new();
    /// let pool = Supervisor::builder().spawn(&system)?;
    /// for i in 0..3 {
    ///     pool.add_child(ChildSpec::new(format!("worker-{i}"), || Worker), Duration::from_secs(5))?;
    /// }
    /// assert_eq!(pool.children(Duration::from_secs(5))?.len(), 3);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn add_child<A: Actor>(
        &self,
        spec: ChildSpec<A>,
        timeout: Duration,
    ) -> Result<Addr<A>, SupervisorError>;

    /// Stops the child named `name` for good and forgets its spec (OTP's
    /// `terminate_child` + `delete_child`). Returns whether it existed.
    ///
    /// # Errors
    /// As [`Addr::ask`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{ChildSpec, Supervisor, SupervisorExt, System};
    /// use std::time::Duration;
    /// # use playhouse::{Actor, ActorError, Context};
    /// # struct Worker;
    /// # impl Actor for Worker {
    /// #     type Msg = ();
    /// #     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
    /// # }
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let sup = Supervisor::builder().child(ChildSpec::new("w", || Worker)).spawn(&system)?;
    /// let w = sup.child::<Worker>("w").expect("started");
    /// assert!(sup.remove_child("w", T)?);
    /// assert!(!w.is_alive());
    /// assert!(!sup.remove_child("w", T)?); // already gone
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn remove_child(&self, name: &str, timeout: Duration) -> Result<bool, AskError>;
}

impl SupervisorExt for Addr<Supervisor> {
    fn children(&self, timeout: Duration) -> Result<Vec<ChildInfo>, AskError> {
        self.ask(|r| SupervisorMsg(Request::Children(r)), timeout)
    }

    fn child<A: Actor>(&self, name: &str) -> Option<Addr<A>> {
        let prefix = self
            .name()
            .map_or_else(|| format!("#{}", self.id()), str::to_string);
        self.lookup(&format!("{prefix}/{name}"))
    }

    fn add_child<A: Actor>(
        &self,
        spec: ChildSpec<A>,
        timeout: Duration,
    ) -> Result<Addr<A>, SupervisorError> {
        if spec.entry.capacity == Some(0) {
            return Err(SupervisorError::Spawn(
                BuildError::zero("mailbox capacity").into(),
            ));
        }
        if spec.entry.throughput == Some(0) {
            return Err(SupervisorError::Spawn(
                BuildError::zero("throughput").into(),
            ));
        }
        let child = self
            .ask(|r| SupervisorMsg(Request::Add(spec.entry, r)), timeout)
            .map_err(SupervisorError::Ask)??;
        let addr = child
            .downcast::<Addr<A>>()
            .expect("a ChildSpec<A> starts an actor of type A");
        Ok(*addr)
    }

    fn remove_child(&self, name: &str, timeout: Duration) -> Result<bool, AskError> {
        let name = name.to_string();
        self.ask(|r| SupervisorMsg(Request::Remove(name, r)), timeout)
    }
}
