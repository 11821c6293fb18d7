//! Supervisors: actors that restart their children, with Erlang/OTP semantics.
//!
#![doc = include_str!("semantics.md")]

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
