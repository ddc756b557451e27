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

/// Where locks live. `uri` is a MongoDB connection string; the other fields
/// override or complete it (mongoose allows credentials and the database
/// name apart from the string).
#[napi(object)]
pub struct StoreTarget {
    pub uri: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub auth_source: Option<String>,
    pub db_name: Option<String>,
    pub collection: Option<String>,
}

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
}

impl From<LockError> for Failure {
    fn from(err: LockError) -> Self {
        let (code_name, labels) = match &err {
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

/// The locks of one collection on one server. Cheap: it holds no connection
/// itself; the pooled client for its connection string is shared process-wide.
#[napi]
pub struct LockStore {
    target: Arc<Target>,
}

#[napi]
impl LockStore {
    #[napi(constructor, catch_unwind)]
    pub fn new(target: StoreTarget) -> Self {
        LockStore {
            target: Arc::new(Target {
                uri: target.uri,
                username: target.username,
                password: target.password,
                auth_source: target.auth_source,
                db_name: target.db_name,
                collection: target.collection,
            }),
        }
    }

    /// Tries once to take `name` for `timeout_ms` milliseconds.
    #[napi]
    pub async fn acquire(&self, name: String, timeout_ms: f64) -> AcquireReply {
        let target = Arc::clone(&self.target);
        let outcome = guarded(async move {
            let timeout_ms = protocol::validate_timeout(timeout_ms)?;
            Locks::open(&target).await?.acquire(&name, timeout_ms).await
        })
        .await;
        match outcome {
            Ok(Some(acquired)) => AcquireReply {
                acquired: true,
                lock_id: Some(acquired.lock_id.to_hex()),
                time_acquired: Some(acquired.time_acquired_ms as f64),
                error: None,
            },
            Ok(None) => AcquireReply {
                acquired: false,
                lock_id: None,
                time_acquired: None,
                error: None,
            },
            Err(err) => AcquireReply {
                acquired: false,
                lock_id: None,
                time_acquired: None,
                error: Some(err.into()),
            },
        }
    }

    /// Releases the lock document `lock_id` (hex), if it has not expired.
    #[napi]
    pub async fn release(&self, lock_id: String) -> ReleaseReply {
        let target = Arc::clone(&self.target);
        let outcome = guarded(async move {
            let lock_id = protocol::parse_lock_id(&lock_id)?;
            Locks::open(&target).await?.release(lock_id).await
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

/// Whether this binary is a debug build (it then has test-only panic triggers).
#[napi(catch_unwind)]
pub fn is_debug_build() -> bool {
    cfg!(debug_assertions)
}
