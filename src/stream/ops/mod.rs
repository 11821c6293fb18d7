//! The built-in stages: one file per family, each a [`super::Stage`].

pub(super) mod basic;
pub(super) mod batch;
pub(super) mod fused;
pub(super) mod limit;
pub(super) mod scan;
