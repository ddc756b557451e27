//! N-API surface of the lock core: the only file that knows about JavaScript.
//!
//! Replies carry failures as values ([`Failure`]) instead of rejecting, so the
//! JS layer builds every `Error` itself with a stable `message` and `code`.
//! Every operation runs with panics caught, so even a panic comes back as a
//! `Failure` with code `ERR_INTERNAL` instead of aborting Node.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use napi_derive::napi;

use mongodb::bson::oid::ObjectId;

use crate::connection;
use crate::error::{from_panic, LockError};
use crate::notes;
use crate::protocol::{self, Locks, Target};

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
    /// The holding's fencing token, when acquired with fencing on.
    pub fencing_token: Option<f64>,
    /// The holding removed to take the lock (a takeover or a forced acquire).
    pub replaced: Option<ReplacedHolding>,
    /// When not acquired: ms until the current holder's lease ends (server
    /// clock), when known; a waiter can come back right then.
    pub holder_expires_in: Option<f64>,
    /// When not acquired: the holding to watch for its end (`watch`).
    pub holder: Option<WatchInfo>,
    pub error: Option<Failure>,
}

/// A holding a waiter can watch (see listener.rs): its document's `_id`
/// (hex), and the host and wake-up listener of the process holding it.
#[napi(object)]
pub struct WatchInfo {
    pub id: String,
    pub host: Option<String>,
    pub wake_up: Option<String>,
}

impl From<protocol::WatchPoint> for WatchInfo {
    fn from(at: protocol::WatchPoint) -> Self {
        WatchInfo {
            id: at.id.to_hex(),
            host: at.host,
            wake_up: at.wake_up,
        }
    }
}

/// One lock document, for operators (`list`).
#[napi(object)]
pub struct LockInfo {
    pub name: Option<String>,
    pub lock_id: Option<String>,
    /// ms since the epoch, server clock.
    pub acquired: Option<f64>,
    /// ms since the epoch, server clock.
    pub expire: f64,
    /// ms left on the lease (≤ 0: past it), server clock.
    pub expires_in: f64,
    pub host: Option<String>,
    pub pid: Option<f64>,
    pub owner: Option<String>,
}

#[napi(object)]
pub struct ListReply {
    pub locks: Vec<LockInfo>,
    pub error: Option<Failure>,
}

/// A fair waiter's place in the queue.
#[napi(object)]
pub struct QueueTicket {
    /// Hex of the registration's `_id`.
    pub id: String,
    pub number: f64,
}

#[napi(object)]
pub struct QueueReply {
    pub ticket: Option<QueueTicket>,
    /// `isHead`: the ticket is at the head; `refresh`: the registration was still there.
    pub yes: bool,
    /// `isHead`, when not at the head: the registration just ahead (to
    /// watch), and ms until it runs out (server clock).
    pub ahead: Option<WatchInfo>,
    pub ahead_expires_in: Option<f64>,
    pub error: Option<Failure>,
}

fn ticket(t: &QueueTicket) -> Result<protocol::Ticket, LockError> {
    Ok(protocol::Ticket {
        id: lock_id(&t.id)?,
        number: t.number as i64,
    })
}

#[napi(object)]
pub struct RemoveReply {
    /// Whether the document was there (and is gone now).
    pub removed: bool,
    pub error: Option<Failure>,
}

#[napi(object)]
pub struct StatusReply {
    /// Who holds the name now (a live lease), or nothing.
    pub holder: Option<LockInfo>,
    pub error: Option<Failure>,
}

impl From<protocol::Status> for LockInfo {
    fn from(s: protocol::Status) -> Self {
        LockInfo {
            name: s.name,
            lock_id: s.lock_id,
            acquired: s.acquired_ms.map(|ms| ms as f64),
            expire: s.expire_ms as f64,
            expires_in: s.expires_in_ms as f64,
            host: s.host,
            pid: s.pid.map(|p| p as f64),
            owner: s.owner,
        }
    }
}

#[napi(object)]
pub struct ReplacedHolding {
    pub lock_id: String,
    /// `taken` (its lease had ended) or `forced`.
    pub how: String,
    /// When it ended, ms since the epoch (server clock).
    pub ended: f64,
}

#[napi(object)]
pub struct ReleaseReply {
    /// The lock was no longer ours (0.0.x `lockTimeouted`).
    pub timed_out: bool,
    /// Why, when `timed_out`: `expired`, `taken`, `forced` or `deleted`.
    pub reason: Option<String>,
    pub error: Option<Failure>,
}

#[napi(object)]
pub struct ExtendReply {
    pub extended: bool,
    /// The new end of the lease, ms since the epoch (server clock), when extended.
    pub expire: Option<f64>,
    /// Why not, when the lock is no longer ours.
    pub reason: Option<String>,
    pub error: Option<Failure>,
}

#[napi(object)]
pub struct IndexesReply {
    /// `db.collection`.
    pub namespace: Option<String>,
    /// The TTL index on `expire` is in place.
    pub ttl: bool,
    /// Why there is no TTL index, when there is none.
    pub ttl_note: Option<String>,
    pub error: Option<Failure>,
}

/// The limits and codes the JS layer must agree with: defined once, here.
#[napi(object)]
pub struct Constants {
    pub max_name_bytes: u32,
    pub max_date_ms: f64,
    pub default_collection: String,
    pub default_history_collection: String,
    /// Every error `code` the package uses, with what it means.
    pub error_codes: Vec<ErrorCodeInfo>,
}

#[napi(object)]
pub struct ErrorCodeInfo {
    pub code: String,
    pub meaning: String,
}

/// Runs `work` with a panic caught, not fatal: it comes back as `ERR_INTERNAL`.
async fn guarded<T, F>(work: F) -> Result<T, LockError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, LockError>> + Send + 'static,
{
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(work).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => Err(from_panic(&*panic)),
    }
}

/// The addon's Tokio runtime: one worker thread. A lock call is a few
/// hundred microseconds of work between two waits for the server; with
/// more workers, each call mostly paid for waking and parking threads
/// (profiled: a third of the client's CPU per acquire and release), and
/// napi-rs's default starts one worker per core.
#[napi_derive::module_init]
fn init_runtime() {
    if let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("mongoose-distributed-lock")
        .enable_all()
        .build()
    {
        napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
    }
}

/// The lock name that makes a debug build panic inside `acquire` (tests only).
#[cfg(debug_assertions)]
const DEBUG_PANIC_NAME: &str = "__mdl_debug_panic__";

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

/// A lock id from JS: the hex of an ObjectId.
fn lock_id(hex: &str) -> Result<ObjectId, LockError> {
    ObjectId::parse_str(hex).map_err(|_| {
        LockError::invalid(
            "ERR_INVALID_LOCK_ID",
            "lockId must be the 24-character hex string of an ObjectId",
        )
    })
}

fn failed(error: LockError) -> Option<Failure> {
    Some(error.into())
}

/// The locks of one collection on one server. Cheap: it holds no connection
/// itself; the pooled client for its settings is shared process-wide.
#[napi]
pub struct LockStore {
    /// Settings that could not be read fail every call with the reason.
    target: Result<Arc<Target>, LockError>,
    /// The locks of `target`, opened on first use and again once their
    /// client closed (a closed connection, then a new one).
    locks: Arc<std::sync::Mutex<Option<Arc<Locks>>>>,
}

impl LockStore {
    /// Runs `work` on this store's locks, guarded.
    async fn with_locks<T, F, Fut>(&self, work: F) -> Result<T, LockError>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Locks>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, LockError>> + Send,
    {
        let target = self.target.clone();
        let cache = Arc::clone(&self.locks);
        guarded(async move {
            let open = cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .filter(|locks| !locks.is_closed());
            let locks = match open {
                Some(locks) => locks,
                None => {
                    let target = target?;
                    let locks = Arc::new(Locks::open(&target).await?);
                    *cache.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(&locks));
                    locks
                }
            };
            work(locks).await
        })
        .await
    }
}

#[napi]
impl LockStore {
    /// `target` is JSON: `{ client, dbName?, collection?, ttl?, history? }`,
    /// where `client` is the connection description the JS layer builds
    /// (see client_options.rs) and `history` a collection name.
    #[napi(constructor, catch_unwind)]
    pub fn new(target: String) -> Self {
        LockStore {
            target: Target::from_json(&target).map(Arc::new),
            locks: Arc::default(),
        }
    }

    /// Tries once to take `name` for `timeout_ms` milliseconds. `own` lists
    /// lock ids (hex) from earlier acquires of this caller that got no reply;
    /// `abort` is a switch from `abortSwitch()`.
    #[napi]
    pub async fn acquire(
        &self,
        name: String,
        timeout_ms: f64,
        own: Vec<String>,
        abort: Option<u32>,
    ) -> AcquireReply {
        let outcome = self
            .with_locks(move |locks| async move {
                #[cfg(debug_assertions)]
                if name == DEBUG_PANIC_NAME {
                    // Test-only trigger (debug builds only): proves a panic becomes an Error.
                    panic!("debug panic trigger");
                }
                let timeout_ms = protocol::validate_timeout(whole_ms(timeout_ms, "timeout")?)?;
                let own = own
                    .iter()
                    .map(|id| lock_id(id))
                    .collect::<Result<Vec<_>, _>>()?;
                let abort = abort.and_then(crate::abort::get);
                locks
                    .acquire(&name, timeout_ms, &own, abort.as_deref())
                    .await
            })
            .await;
        acquire_reply(outcome)
    }

    /// Takes `name` for `timeout_ms` whoever holds it (see `Locks::force`).
    #[napi]
    pub async fn force_acquire(&self, name: String, timeout_ms: f64) -> AcquireReply {
        let outcome = self
            .with_locks(move |locks| async move {
                let timeout_ms = protocol::validate_timeout(whole_ms(timeout_ms, "timeout")?)?;
                locks.force(&name, timeout_ms).await
            })
            .await;
        acquire_reply(outcome)
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
        let outcome = self
            .with_locks(move |locks| async move {
                let holding = protocol::Holding {
                    lock_id: self::lock_id(&lock_id)?,
                    name: &name,
                    expire_ms: expire_ms.map(|ms| whole_ms(ms, "expire")).transpose()?,
                };
                locks.release(holding, retry).await
            })
            .await;
        match outcome {
            Ok(protocol::Ended::InTime) => ReleaseReply {
                timed_out: false,
                reason: None,
                error: None,
            },
            Ok(protocol::Ended::Lost(reason)) => ReleaseReply {
                timed_out: true,
                reason: Some(reason.as_str().to_string()),
                error: None,
            },
            Err(err) => ReleaseReply {
                timed_out: false,
                reason: None,
                error: failed(err),
            },
        }
    }

    /// Renews the lease of `lock_id` (hex) of `name` to `lease_ms` from now.
    #[napi]
    pub async fn extend(
        &self,
        lock_id: String,
        name: String,
        expire_ms: Option<f64>,
        lease_ms: f64,
        bound_ms: Option<f64>,
    ) -> ExtendReply {
        let outcome = self
            .with_locks(move |locks| async move {
                let holding = protocol::Holding {
                    lock_id: self::lock_id(&lock_id)?,
                    name: &name,
                    expire_ms: expire_ms.map(|ms| whole_ms(ms, "expire")).transpose()?,
                };
                let lease_ms = protocol::validate_timeout(whole_ms(lease_ms, "ms")?)?;
                let bound_ms = bound_ms.map(|ms| whole_ms(ms, "bound")).transpose()?;
                locks.extend(holding, lease_ms, bound_ms).await
            })
            .await;
        match outcome {
            Ok(protocol::Renewed::Extended { expire_ms }) => ExtendReply {
                extended: true,
                expire: Some(expire_ms as f64),
                reason: None,
                error: None,
            },
            Ok(protocol::Renewed::Lost(reason)) => ExtendReply {
                extended: false,
                expire: None,
                reason: Some(reason.as_str().to_string()),
                error: None,
            },
            Err(err) => ExtendReply {
                extended: false,
                expire: None,
                reason: None,
                error: failed(err),
            },
        }
    }

    /// Ensures the collection's indexes now (they are otherwise ensured
    /// before the first acquire).
    #[napi]
    pub async fn ensure_indexes(&self) -> IndexesReply {
        match self
            .with_locks(|locks| async move { locks.ensure_indexes().await })
            .await
        {
            Ok(report) => IndexesReply {
                namespace: Some(report.namespace),
                ttl: report.ttl,
                ttl_note: report.ttl_note,
                error: None,
            },
            Err(err) => IndexesReply {
                namespace: None,
                ttl: false,
                ttl_note: None,
                error: failed(err),
            },
        }
    }

    /// Who holds `name` now, in one round trip.
    #[napi]
    pub async fn status(&self, name: String) -> StatusReply {
        match self
            .with_locks(move |locks| async move { locks.status(&name).await })
            .await
        {
            Ok(holder) => StatusReply {
                holder: holder.map(LockInfo::from),
                error: None,
            },
            Err(err) => StatusReply {
                holder: None,
                error: failed(err),
            },
        }
    }

    #[napi]
    pub async fn enqueue(&self, name: String, lease_ms: f64) -> QueueReply {
        let outcome = self
            .with_locks(move |locks| async move {
                let lease_ms = protocol::validate_timeout(whole_ms(lease_ms, "lease")?)?;
                locks.enqueue(&name, lease_ms).await
            })
            .await;
        match outcome {
            Ok(t) => QueueReply {
                ticket: Some(QueueTicket {
                    id: t.id.to_hex(),
                    number: t.number as f64,
                }),
                yes: true,
                ahead: None,
                ahead_expires_in: None,
                error: None,
            },
            Err(err) => queue_reply(Err(err)),
        }
    }

    /// Whether `t` is at the head of the queue of `name`; if not, the
    /// registration just ahead of it.
    #[napi]
    pub async fn is_head(&self, name: String, t: QueueTicket) -> QueueReply {
        let outcome = self
            .with_locks(move |locks| async move { locks.place(&name, ticket(&t)?).await })
            .await;
        match outcome {
            Ok(protocol::Place::Behind {
                ahead,
                expires_in_ms,
            }) => QueueReply {
                ticket: None,
                yes: false,
                ahead: Some(ahead.into()),
                ahead_expires_in: Some(expires_in_ms as f64),
                error: None,
            },
            Ok(protocol::Place::Head) => queue_reply(Ok(true)),
            Err(err) => queue_reply(Err(err)),
        }
    }

    /// Waits until the holding `at` ends in the process holding it, as far
    /// as a wake-up tells: `gone` (try now), `broken` or `unreachable` (no
    /// wake-up will come: poll), `closed` (this store closed) or `aborted`
    /// (`abort`, a switch from `abortSwitch()`, was flipped).
    #[napi]
    pub async fn watch(&self, at: WatchInfo, abort: Option<u32>) -> String {
        let woken = self
            .with_locks(move |locks| async move {
                let at = protocol::WatchPoint {
                    id: lock_id(&at.id)?,
                    host: at.host,
                    wake_up: at.wake_up,
                };
                let abort = abort.and_then(crate::abort::get);
                Ok(match abort {
                    Some(abort) => tokio::select! {
                        woken = locks.watch(&at) => woken.as_str(),
                        () = abort.aborted() => "aborted",
                    },
                    None => locks.watch(&at).await.as_str(),
                })
            })
            .await;
        match woken {
            Ok(woken) => woken.to_string(),
            Err(LockError::ConnectionClosed) => "closed".to_string(),
            Err(_) => "unreachable".to_string(),
        }
    }

    /// The holding `lock_id` (hex) of this process ended outside a release
    /// (its `holdAtLeast` bound passed): waiters watching it try now.
    #[napi]
    pub async fn ended(&self, lock_id: String) {
        let _ = self
            .with_locks(move |locks| async move {
                locks.ended(self::lock_id(&lock_id)?);
                Ok(())
            })
            .await;
    }

    /// Keeps `t`'s registration alive for `lease_ms` more.
    #[napi]
    pub async fn refresh(&self, t: QueueTicket, lease_ms: f64) -> QueueReply {
        let outcome = self
            .with_locks(move |locks| async move {
                let lease_ms = protocol::validate_timeout(whole_ms(lease_ms, "lease")?)?;
                locks.refresh(ticket(&t)?, lease_ms).await
            })
            .await;
        queue_reply(outcome)
    }

    /// Leaves the queue.
    #[napi]
    pub async fn leave(&self, t: QueueTicket) -> Option<Failure> {
        self.with_locks(move |locks| async move { locks.leave(ticket(&t)?).await })
            .await
            .err()
            .and_then(failed)
    }

    /// Every lock document of the collection, by name, at most `limit`.
    #[napi]
    pub async fn list(&self, limit: u32) -> ListReply {
        match self
            .with_locks(move |locks| async move { locks.list(i64::from(limit)).await })
            .await
        {
            Ok(all) => ListReply {
                locks: all.into_iter().map(LockInfo::from).collect(),
                error: None,
            },
            Err(err) => ListReply {
                locks: Vec::new(),
                error: failed(err),
            },
        }
    }

    /// Removes the lock document `lock_id` (hex) of `name`, by its exact `_id`.
    #[napi]
    pub async fn remove(&self, name: String, lock_id: String) -> RemoveReply {
        match self
            .with_locks(
                move |locks| async move { locks.remove(&name, self::lock_id(&lock_id)?).await },
            )
            .await
        {
            Ok(removed) => RemoveReply {
                removed,
                error: None,
            },
            Err(err) => RemoveReply {
                removed: false,
                error: failed(err),
            },
        }
    }

    /// Records the start of a holding in the history (when it is on).
    #[napi]
    pub async fn record_start(
        &self,
        lock_id: String,
        name: String,
        acquired_ms: f64,
    ) -> Option<Failure> {
        self.with_locks(move |locks| async move {
            let acquired_ms = whole_ms(acquired_ms, "acquired")?;
            locks
                .record_start(self::lock_id(&lock_id)?, &name, acquired_ms)
                .await
        })
        .await
        .err()
        .and_then(failed)
    }

    /// Records how a holding ended, in the history (when it is on).
    #[napi]
    pub async fn record_end(
        &self,
        lock_id: String,
        name: String,
        how: String,
        ended_ms: Option<f64>,
    ) -> Option<Failure> {
        self.with_locks(move |locks| async move {
            let ended_ms = ended_ms.map(|ms| whole_ms(ms, "ended")).transpose()?;
            locks
                .record_end(self::lock_id(&lock_id)?, &name, &how, ended_ms)
                .await
        })
        .await
        .err()
        .and_then(failed)
    }

    /// Closes the pooled client behind this store (shared with every store
    /// of the same settings): calls still running end with
    /// `ERR_CONNECTION_CLOSED`. Later calls connect again.
    #[napi]
    pub async fn close(&self) {
        if let Ok(target) = self.target.clone() {
            let _ = tokio::spawn(async move { connection::close(&target.client).await }).await;
        }
    }
}

fn queue_reply(outcome: Result<bool, LockError>) -> QueueReply {
    let (yes, error) = match outcome {
        Ok(yes) => (yes, None),
        Err(err) => (false, failed(err)),
    };
    QueueReply {
        ticket: None,
        yes,
        ahead: None,
        ahead_expires_in: None,
        error,
    }
}

fn acquire_reply(outcome: Result<protocol::Outcome, LockError>) -> AcquireReply {
    match outcome {
        Ok(protocol::Outcome::Acquired(acquired)) => AcquireReply {
            acquired: true,
            lock_id: Some(acquired.lock_id.to_hex()),
            time_acquired: Some(acquired.time_acquired_ms as f64),
            expire: Some(acquired.expire_ms as f64),
            fencing_token: acquired.fencing_token.map(|t| t as f64),
            replaced: acquired.replaced.map(|r| ReplacedHolding {
                lock_id: r.lock_id.to_hex(),
                how: r.how.as_str().to_string(),
                ended: r.ended_ms as f64,
            }),
            holder_expires_in: None,
            holder: None,
            error: None,
        },
        Ok(protocol::Outcome::Held {
            expires_in_ms,
            holder,
        }) => AcquireReply {
            acquired: false,
            lock_id: None,
            time_acquired: None,
            expire: None,
            fencing_token: None,
            replaced: None,
            holder_expires_in: expires_in_ms.map(|ms| ms as f64),
            holder: holder.map(WatchInfo::from),
            error: None,
        },
        Err(err) => AcquireReply {
            acquired: false,
            lock_id: None,
            time_acquired: None,
            expire: None,
            fencing_token: None,
            replaced: None,
            holder_expires_in: None,
            holder: None,
            error: failed(err),
        },
    }
}

/// A new abort switch for one call; `abort(id)` flips it, `releaseAbortSwitch(id)`
/// forgets it once the call is over.
#[napi(catch_unwind)]
pub fn abort_switch() -> u32 {
    crate::abort::register()
}

#[napi(catch_unwind)]
pub fn abort(id: u32) {
    crate::abort::abort(id);
}

#[napi(catch_unwind)]
pub fn release_abort_switch(id: u32) {
    crate::abort::release(id);
}

/// Lines for the application's debug log, kept since the last call.
#[napi(catch_unwind)]
pub fn take_notes() -> Vec<String> {
    notes::take_notes()
}

/// The limits and error codes, defined once in the core.
#[napi(catch_unwind)]
pub fn constants() -> Constants {
    Constants {
        max_name_bytes: protocol::MAX_NAME_BYTES as u32,
        max_date_ms: protocol::MAX_DATE_MS as f64,
        default_collection: protocol::DEFAULT_COLLECTION.to_string(),
        default_history_collection: protocol::DEFAULT_HISTORY_COLLECTION.to_string(),
        error_codes: crate::error::ERROR_CODES
            .iter()
            .map(|(code, meaning)| ErrorCodeInfo {
                code: code.to_string(),
                meaning: meaning.to_string(),
            })
            .collect(),
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

/// Tests: the next call to pass the pause point `name` (`lock-insert`,
/// `fencing-read`) waits until `pausePointOpen(name)`. False (nothing armed)
/// unless `MONGOOSE_DISTRIBUTED_LOCK_MONITOR` is set.
#[napi(catch_unwind)]
pub fn pause_point_arm(name: String) -> bool {
    crate::pause_points::arm(&name)
}

/// Tests: whether a call waits at the pause point `name`.
#[napi(catch_unwind)]
pub fn pause_point_caught(name: String) -> bool {
    crate::pause_points::caught(&name)
}

/// Tests: lets the call waiting at `name` go on, and disarms the point.
#[napi(catch_unwind)]
pub fn pause_point_open(name: String) {
    crate::pause_points::open(&name);
}

/// Tests: ends every wake-up connection of this process, as a network fault
/// would (its waiters poll until they connect again). False (nothing done)
/// unless `MONGOOSE_DISTRIBUTED_LOCK_MONITOR` is set.
#[napi(catch_unwind)]
pub fn cut_wake_ups() -> bool {
    let on = std::env::var_os(connection::MONITOR_ENV).is_some_and(|v| !v.is_empty() && v != "0");
    if on {
        crate::listener::cut_connections();
    }
    on
}

/// Tests: watches under way in this process on other processes' holdings.
#[napi(catch_unwind)]
pub fn open_wake_up_watches() -> u32 {
    crate::listener::open_watches() as u32
}

/// How many pooled clients are open (tests of the connection's life).
#[napi(catch_unwind)]
pub fn open_clients() -> u32 {
    connection::open_clients() as u32
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
