//! N-API surface of the lock core: the only file that knows about JavaScript.
//!
//! Replies carry failures as values ([`Failure`]) instead of rejecting, so the
//! JS layer builds every `Error` itself with a stable `message` and `code`.
//! Every operation runs in its own Tokio task, so even a panic comes back as
//! a `Failure` with code `ERR_INTERNAL` instead of aborting Node.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use napi_derive::napi;

use crate::connection::{self, Target};
use crate::error::{from_panic, LockError};
use crate::protocol::{self, Locks};

/// Why an operation failed.
#[napi(object)]
pub struct Failure {
    /// Stable code: `ERR_MONGODB_SERVER`, `ERR_MONGODB_NETWORK`, `ERR_INVALID_URI`, …
    pub code: String,
    pub message: String,
    /// The server's numeric error code, for server errors.
    pub server_code: Option<i32>,
    pub code_name: Option<String>,
    pub labels: Vec<String>,
    /// An acquire whose insert got no reply: the `_id` (hex) of the lock
    /// document that may have gone in. Pass it back to `acquire` as one of
    /// `own`: found holding the name, it is recognised and replaced.
    pub unresolved_lock_id: Option<String>,
}

impl From<LockError> for Failure {
    fn from(err: LockError) -> Self {
        let inner = match &err {
            LockError::Unresolved { source, .. } => source.as_ref(),
            other => other,
        };
        let (code_name, labels) = match inner {
            LockError::Server {
                code_name, labels, ..
            } => (code_name.clone(), labels.clone()),
            LockError::Network { labels, .. } => (None, labels.clone()),
            _ => (None, Vec::new()),
        };
        Failure {
            code: err.code().to_string(),
            message: err.to_string(),
            server_code: err.server_code(),
            code_name,
            labels,
            unresolved_lock_id: err.unresolved_lock_id().map(|id| id.to_hex()),
        }
    }
}

#[napi(object)]
pub struct AcquireReply {
    pub acquired: bool,
    /// Hex of the lock document's `_id`, when acquired.
    pub lock_id: Option<String>,
    /// Server time of the acquisition in ms since the epoch, when acquired.
    pub time_acquired: Option<f64>,
    /// End of the lease in ms since the epoch (server clock), when acquired.
    pub expire: Option<f64>,
    pub error: Option<Failure>,
}

#[napi(object)]
pub struct ReleaseReply {
    /// The lock had expired before the release (0.0.x `lockTimeouted`).
    pub timed_out: bool,
    pub error: Option<Failure>,
}

/// Runs `work` in its own task so that a panic is caught, not fatal.
async fn guarded<T, F>(work: F) -> Result<T, LockError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, LockError>> + Send + 'static,
{
    match tokio::spawn(work).await {
        Ok(result) => result,
        Err(join) if join.is_panic() => Err(from_panic(&*join.into_panic())),
        Err(_) => Err(LockError::Internal {
            message: "the operation was cancelled".to_string(),
        }),
    }
}

/// A number of ms from JS as whole ms (fractions dropped, as `Date` does).
fn whole_ms(value: f64, what: &str) -> Result<i64, LockError> {
    if !value.is_finite() || value < 0.0 || value >= protocol::MAX_DATE_MS as f64 {
        return Err(LockError::invalid(
            "ERR_INVALID_OPTION",
            format!(
                "{what} must be a finite number of ms from 0 to {}",
                protocol::MAX_DATE_MS
            ),
        ));
    }
    Ok(value as i64)
}

/// The locks of one collection on one server. Cheap: it holds no connection
/// itself; the pooled client for its settings is shared process-wide.
#[napi]
pub struct LockStore {
    /// Settings that could not be read fail every call with the reason.
    target: Result<Arc<Target>, LockError>,
}

impl LockStore {
    fn target(&self) -> Result<Arc<Target>, LockError> {
        self.target.clone()
    }
}

#[napi]
impl LockStore {
    /// `target` is JSON: `{ client, dbName?, collection? }`, where `client` is
    /// the connection description the JS layer builds (see client_options.rs).
    #[napi(constructor, catch_unwind)]
    pub fn new(target: String) -> Self {
        LockStore {
            target: Target::from_json(&target).map(Arc::new),
        }
    }

    /// Tries once to take `name` for `timeout_ms` milliseconds. `own` lists
    /// lock ids (hex) from earlier acquires of this caller that got no reply.
    #[napi]
    pub async fn acquire(&self, name: String, timeout_ms: f64, own: Vec<String>) -> AcquireReply {
        let target = self.target();
        let outcome = guarded(async move {
            let target = target?;
            let timeout_ms = protocol::validate_timeout(whole_ms(timeout_ms, "timeout")?)?;
            let own = own
                .iter()
                .map(|id| protocol::parse_lock_id(id))
                .collect::<Result<Vec<_>, _>>()?;
            Locks::open(&target)
                .await?
                .acquire(&name, timeout_ms, &own)
                .await
        })
        .await;
        match outcome {
            Ok(Some(acquired)) => AcquireReply {
                acquired: true,
                lock_id: Some(acquired.lock_id.to_hex()),
                time_acquired: Some(acquired.time_acquired_ms as f64),
                expire: Some(acquired.expire_ms as f64),
                error: None,
            },
            Ok(None) => AcquireReply {
                acquired: false,
                lock_id: None,
                time_acquired: None,
                expire: None,
                error: None,
            },
            Err(err) => AcquireReply {
                acquired: false,
                lock_id: None,
                time_acquired: None,
                expire: None,
                error: Some(err.into()),
            },
        }
    }

    /// Releases the lock document `lock_id` (hex) of `name`, if its lease has
    /// not ended. `expire_ms` is the lease's end (server clock) when known;
    /// `retry` says an earlier release of it got no reply.
    #[napi]
    pub async fn release(
        &self,
        lock_id: String,
        name: String,
        expire_ms: Option<f64>,
        retry: bool,
    ) -> ReleaseReply {
        let target = self.target();
        let outcome = guarded(async move {
            let target = target?;
            let holding = protocol::Holding {
                lock_id: protocol::parse_lock_id(&lock_id)?,
                name: &name,
                expire_ms: expire_ms.map(|ms| whole_ms(ms, "expire")).transpose()?,
            };
            Locks::open(&target).await?.release(holding, retry).await
        })
        .await;
        match outcome {
            Ok(timed_out) => ReleaseReply {
                timed_out,
                error: None,
            },
            Err(err) => ReleaseReply {
                timed_out: false,
                error: Some(err.into()),
            },
        }
    }

    /// Closes the pooled client behind this store (shared with every store
    /// of the same settings): calls still running end with
    /// `ERR_CONNECTION_CLOSED`. Later calls connect again.
    #[napi]
    pub async fn close(&self) {
        if let Ok(target) = self.target() {
            let _ = tokio::spawn(async move { connection::close(&target.client).await }).await;
        }
    }
}

/// Closes every pooled client. Later calls connect again.
#[napi]
pub async fn close_all() {
    // Spawned so a panic while closing cannot take the process down either.
    let _ = tokio::spawn(connection::close_all()).await;
}

/// Commands sent per command name, while `MONGOOSE_DISTRIBUTED_LOCK_MONITOR` is set.
#[napi(catch_unwind)]
pub fn command_counts() -> HashMap<String, f64> {
    connection::command_counts()
        .into_iter()
        .map(|(name, n)| (name, n as f64))
        .collect()
}

#[napi(catch_unwind)]
pub fn reset_command_counts() {
    connection::reset_command_counts();
}

/// Does nothing, asynchronously: the benchmark's measure of one trip across
/// the N-API boundary and back (a Promise settled from the Tokio runtime).
#[napi]
pub async fn noop() -> u32 {
    0
}

/// How many pooled clients are open (tests of the connection's life).
#[napi(catch_unwind)]
pub fn open_clients() -> u32 {
    connection::open_clients() as u32
}

/// Whether this binary is a debug build (it then has test-only panic triggers).
#[napi(catch_unwind)]
pub fn is_debug_build() -> bool {
    cfg!(debug_assertions)
}
