//! Supervisors: actors that restart their children, with Erlang/OTP semantics.
//!
//! A [`Supervisor`] owns an ordered list of [`ChildSpec`]s. Each child is
//! started in order, each after the previous one's `started` succeeded; a
//! top-level supervisor's [`SupervisorBuilder::spawn`] returns once they all
//! have (OTP's synchronous `start_link`). When a child exits, the supervisor
//! decides from the child's [`Restart`] kind and the exit whether to restart
//! it, and restarts by its [`Strategy`]:
//!
//! ```text
//!             root (one-for-all)
//!            /                  \
//!       db (worker)        pool (one-for-one, backoff)
//!                          /        |        \
//!                      worker-1  worker-2  worker-3
//! ```
//!
//! - **one-for-one**: only the exited child restarts.
//! - **one-for-all**: every other running child is halted, newest first, then
//!   all restart in start order.
//! - **rest-for-one**: the children started after the exited one are halted,
//!   newest first, then it and they restart in start order.
//!
//! A temporary child is never restarted, also when it is a bystander of a
//! group restart: it is stopped and removed instead (OTP's
//! `temporary_bystander`).
//!
//! A restarted child gets a fresh instance from its factory, but keeps its
//! mailbox and its address: messages queued while it was down are handled by
//! the new instance (the message being handled when it failed goes to dead
//! letters), and every [`crate::Addr`] and [`crate::Recipient`] made from it
//! keeps working.
//!
//! **Intensity.** More than `max_restarts` restarts within `period` (OTP's
//! defaults: 1 in 5 s) make the supervisor give up: it stops its children,
//! newest first, each within its shutdown timeout, and exits with
//! [`crate::ExitReason::GaveUp`], which its own supervisor sees as a child
//! failure (escalation). A supervisor without a supervisor logs the give-up
//! at error level and stops its tree. A group restart counts once however
//! many of its children failed.
//!
//! **Logging.** Each child exit is logged once, by the supervisor, with its
//! reason and what the supervisor does about it.
//!
//! **Differences from OTP**, all deliberate: a child asked to stop through its
//! address (or `Context::stop`) exits *normally* and is judged by its restart
//! kind (a permanent child comes back, as in OTP); to remove a child for good use
//! [`SupervisorExt::remove_child`]. An optional exponential backoff delays
//! restarts through the timer, while senders feel backpressure from the
//! bounded mailbox.
//!
//! **Built on the public API.** A supervisor is an ordinary actor: it spawns
//! its children with [`crate::SpawnOptions::supervised`], learns of their
//! starts and exits through [`crate::Actor::on_child`], and answers with
//! [`crate::Context::restart_child`], [`crate::Context::halt_child`] and
//! [`crate::Context::stop_child`]. Nothing here is private to the crate.

mod builder;
mod error;
mod ext;
mod intensity;
mod server;
mod spec;

pub use builder::{Strategy, SupervisorBuilder};
pub use error::SupervisorError;
pub use ext::SupervisorExt;
pub use server::{ChildInfo, Supervisor, SupervisorMsg};
pub use spec::{ChildSpec, DEFAULT_CHILD_SHUTDOWN, Restart};
