//! Delivering the outbox (server only): what a failure means ([`policy`]).

pub mod policy;
