//! Native core of mongoose-distributed-lock: a distributed lock on MongoDB.
//!
//! - [`protocol`]: the lock protocol (insert-only ownership, index proof, takeover);
//! - [`client_options`]: the settings a lock connects with, under the lock's own policy;
//! - [`connection`]: one shared `Client` per set of settings, command counters;
//! - [`clock`]: the server's clock as seen from this process;
//! - [`listener`]: the wake-up listener (a holding's end, told to waiters in other processes);
//! - [`error`]: errors with context and stable codes;
//! - [`notes`]: one-line notes for the application's debug log;
//! - [`abort`]: aborting a call under way;
//! - [`pause_points`]: named points where a test holds a call, to play a race in order;
//! - `binding` (feature `node`, on by default): the N-API surface.

#![deny(clippy::all)]

pub mod abort;
pub mod client_options;
pub mod clock;
pub mod connection;
pub mod error;
pub mod listener;
pub mod notes;
pub mod pause_points;
pub mod protocol;

#[cfg(feature = "node")]
pub mod binding;
