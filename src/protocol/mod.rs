//! The lock protocol, in lock terms only.
//!
//! A lock is a document `{ _id, name, expire, inserted }` in a collection with
//! a unique index on `name`, the same shape the 0.0.x package writes, so old
//! and new instances exclude each other during a rolling deploy. The
//! collection holds lock documents and nothing else.
//!
//! Ownership only ever changes through an *insert* into the unique key: that
//! is atomic on every MongoDB-compatible server, whereas conditional updates
//! and deletes are not atomic on some of them (FerretDB reads, then writes by
//! `_id`). Deletes here only ever target one exact `_id`, and every takeover
//! inserts a fresh `_id`, so a late or non-atomic delete can never remove the
//! current holder's document.
//!
//! - [`acquire`](Locks::acquire), takeover of an expired holder and
//!   [`force`](Locks::force): `acquire.rs`;
//! - [`release`](Locks::release) and [`extend`](Locks::extend), and what a
//!   holder learns when its lock is no longer its own: `release.rs`;
//! - the unique index (ensured once per collection and proven by every
//!   acquire) and the TTL index: `index.rs`;
//! - the opt-in history of holdings: `history.rs`;
//! - fencing tokens, opt-in: `fencing.rs`;
//! - fair waiting (a queue of waiters), opt-in: `queue.rs`.

mod acquire;
mod fencing;
mod history;
mod index;
mod queue;
mod release;

use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, Bson, Document};
use mongodb::Collection;

use crate::client_options::{self, ClientSpec};
use crate::connection::{self, Shared};
use crate::error::{LockError, Result};
use crate::listener::{Listener, Woken};
use crate::notes;

pub use acquire::{Acquired, Outcome, Replaced, FORCED_FROM};
pub use history::DEFAULT_HISTORY_COLLECTION;
pub use index::IndexReport;
pub use queue::{Place, Ticket};
pub use release::{Ended, Holding, Renewed};

/// The collection of the 0.0.x package's mongoose model `DistributedLock`.
pub const DEFAULT_COLLECTION: &str = "distributedlocks";

/// Where the locks live: how to connect, a database and a collection.
#[derive(Clone, Default, Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Target {
    pub client: ClientSpec,
    pub db_name: Option<String>,
    pub collection: Option<String>,
    /// Keep a TTL index on `expire` where the server has them (default on).
    pub ttl: Option<bool>,
    /// Collection of the history of holdings, when history is on.
    pub history: Option<String>,
    /// Who takes locks through this target (recorded in lock documents).
    pub holder: Option<HolderInfo>,
    /// The write concern of lock writes (`{ w: "majority" }` by default).
    pub write_concern: Option<WriteConcernSpec>,
    /// Fencing tokens on (claimed in `<collection>_fencing`).
    pub fencing: Option<bool>,
    /// Fair waiting on (waiters queue in `<collection>_queue`).
    pub fair: Option<bool>,
    /// Wake-ups on (default): this process's holdings can be watched by
    /// waiters in other processes (see `listener.rs`).
    pub wake_ups: Option<bool>,
    /// The IP address the wake-up listener listens on and gives to waiters
    /// (for waiters on other hosts); loopback when absent.
    pub wake_up_address: Option<String>,
}

impl Target {
    /// Reads the JSON the JS layer sends. Errors name where the JSON is wrong
    /// or which setting is unknown, never a value (values may be secrets).
    pub fn from_json(json: &str) -> Result<Target> {
        serde_json::from_str(json).map_err(|e| client_options::spec_error(&e))
    }
}

/// The field of a lock document that says who holds it (`{ host, pid,
/// owner }`); 0.0.x ignores fields it does not know.
pub const HOLDER: &str = "holder";

/// The field of `holder` (and of a queue ticket) that names the wake-up
/// listener of the process that wrote it, `"<port>:<key>"`.
pub const WAKE_UP: &str = "wakeUp";

/// A holding a waiter can watch: its document's `_id`, and where the
/// process that holds it listens, when it does (1.1 and 0.0.x do not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchPoint {
    pub id: ObjectId,
    pub host: Option<String>,
    pub wake_up: Option<String>,
}

impl WatchPoint {
    /// The watch point of document `id`, from its `holder` field (a lock)
    /// or its own fields (a queue ticket).
    pub fn of(id: ObjectId, doc: &Document) -> WatchPoint {
        let from = doc.get_document(HOLDER).unwrap_or(doc);
        let text = |field: &str| from.get_str(field).ok().map(str::to_string);
        WatchPoint {
            id,
            host: text("host"),
            wake_up: text(WAKE_UP),
        }
    }
}

/// Who holds a lock: the process, and the application's label for it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolderInfo {
    pub host: String,
    pub pid: u32,
    pub owner: Option<String>,
}

impl HolderInfo {
    pub fn to_document(&self) -> Document {
        let mut doc = doc! { "host": &self.host, "pid": i64::from(self.pid) };
        if let Some(owner) = &self.owner {
            doc.insert("owner", owner);
        }
        doc
    }
}

/// The write concern lock writes use, `{ w: "majority" }` unless the
/// application says otherwise: a lock must survive a primary failover.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WriteConcernSpec {
    /// `majority`, a tag, or a number of members written in decimal.
    pub w: Option<String>,
    pub journal: Option<bool>,
    pub wtimeout_ms: Option<u32>,
}

impl WriteConcernSpec {
    /// As the `writeConcern` field of a command; `w: 0` is never used.
    pub fn to_document(&self) -> Document {
        let w = match self.w.as_deref() {
            None | Some("0") | Some("") => Bson::String("majority".into()),
            Some(n) if n.bytes().all(|b| b.is_ascii_digit()) => n
                .parse::<i32>()
                .map_or(Bson::String("majority".into()), Bson::Int32),
            Some(tag) => Bson::String(tag.into()),
        };
        let mut doc = doc! { "w": w };
        if let Some(j) = self.journal {
            doc.insert("j", j);
        }
        if let Some(ms) = self.wtimeout_ms {
            doc.insert("wtimeout", i64::from(ms));
        }
        doc
    }

    fn to_options(&self) -> mongodb::options::WriteConcern {
        use mongodb::options::{Acknowledgment, WriteConcern};
        let mut wc = WriteConcern::default();
        wc.w = Some(match self.to_document().get("w") {
            Some(Bson::Int32(n)) => Acknowledgment::Nodes(*n as u32),
            Some(Bson::String(s)) if s == "majority" => Acknowledgment::Majority,
            Some(Bson::String(s)) => Acknowledgment::Custom(s.clone()),
            _ => Acknowledgment::Majority,
        });
        wc.journal = self.journal;
        wc.w_timeout = self
            .wtimeout_ms
            .map(|ms| std::time::Duration::from_millis(u64::from(ms)));
        wc
    }
}

/// Why a holding ended without a release in time: the 0.0.x `lockTimeouted`
/// cases, told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LostReason {
    /// Its lease ran out (nobody took the lock over, or we cannot tell more).
    Expired,
    /// Another holder took the lock over after the lease ran out.
    Taken,
    /// A forced acquire removed it while its lease ran.
    Forced,
    /// Its document vanished while its lease ran (deleted by hand, a dropped
    /// collection, or an old-version forced acquire that leaves no mark).
    Deleted,
}

impl LostReason {
    /// The word for it in events and history records.
    pub fn as_str(self) -> &'static str {
        match self {
            LostReason::Expired => "expired",
            LostReason::Taken => "taken",
            LostReason::Forced => "forced",
            LostReason::Deleted => "deleted",
        }
    }
}

/// The largest time a JS `Date` can hold (ms since the epoch), so that the
/// 0.0.x package, which reads `expire` through mongoose, can still read it.
pub const MAX_DATE_MS: i64 = 8_640_000_000_000_000;
/// Names longer than this (UTF-8 bytes) are refused: MongoDB before 4.2
/// refuses index keys over 1024 bytes, so such names could not be shared.
pub const MAX_NAME_BYTES: usize = 1000;

pub fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(LockError::invalid("ERR_MISSING_NAME", "missing_name"));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(LockError::invalid(
            "ERR_INVALID_NAME",
            format!(
                "lock name is {} bytes long; the limit is {MAX_NAME_BYTES}",
                name.len()
            ),
        ));
    }
    if name.contains('\u{0}') {
        return Err(LockError::invalid(
            "ERR_INVALID_NAME",
            "lock name must not contain NUL characters",
        ));
    }
    Ok(())
}

/// Checks a timeout in whole ms.
pub fn validate_timeout(timeout_ms: i64) -> Result<i64> {
    if !(0..MAX_DATE_MS).contains(&timeout_ms) {
        return Err(LockError::invalid(
            "ERR_INVALID_OPTION",
            format!("timeout must be a number of ms from 0 to {MAX_DATE_MS}"),
        ));
    }
    Ok(timeout_ms)
}

/// `now + timeout`, if it stays a valid date.
pub fn expiry(now_ms: i64, timeout_ms: i64) -> Result<i64> {
    now_ms
        .checked_add(timeout_ms)
        .filter(|e| *e <= MAX_DATE_MS)
        .ok_or_else(|| {
            LockError::invalid(
                "ERR_INVALID_OPTION",
                "timeout is too large: the lock would expire after the largest date",
            )
        })
}

/// The `(index, code)` of the first write error of an `insert` reply.
fn first_write_error(reply: &Document) -> Option<(i64, i32)> {
    let first = reply
        .get_array("writeErrors")
        .ok()?
        .first()?
        .as_document()?;
    let index = match first.get("index")? {
        Bson::Int32(i) => i64::from(*i),
        Bson::Int64(i) => *i,
        _ => return None,
    };
    Some((index, first.get_i32("code").unwrap_or(0)))
}

/// A date field of a stored lock document (`expire`, `inserted`), in ms.
/// 0.0.x writes a `Date`; a number is taken as ms, for hand-made documents.
pub fn stored_time(doc: &Document, field: &str) -> Option<i64> {
    match doc.get(field)? {
        Bson::DateTime(d) => Some(d.timestamp_millis()),
        other => whole_number(other),
    }
}

/// A stored number as a whole number (a finite double is truncated).
pub(crate) fn whole_number(value: &Bson) -> Option<i64> {
    match value {
        Bson::Int64(n) => Some(*n),
        Bson::Int32(n) => Some(i64::from(*n)),
        Bson::Double(f) if f.is_finite() => Some(*f as i64),
        _ => None,
    }
}

/// The live holding of a name, as stored (0.0.x holders have no host, pid
/// or owner).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub name: Option<String>,
    pub lock_id: Option<String>,
    pub acquired_ms: Option<i64>,
    pub expire_ms: i64,
    /// Ms left on the lease, on the server's clock.
    pub expires_in_ms: i64,
    pub host: Option<String>,
    pub pid: Option<i64>,
    pub owner: Option<String>,
}

/// The locks of one collection, on one shared client.
pub struct Locks {
    shared: std::sync::Arc<Shared>,
    coll: Collection<Document>,
    namespace: String,
    /// Whether to keep a TTL index on `expire` (where the server has them).
    ttl: bool,
    /// Where holdings are recorded, when history is on.
    history: Option<Collection<Document>>,
    /// Who takes locks through these: written into each lock document.
    holder: Option<HolderInfo>,
    /// The `writeConcern` of the lock's own insert commands.
    write_concern: Document,
    /// Where fencing tokens are claimed, when fencing is on.
    fencing: Option<Collection<Document>>,
    /// Where fair waiters queue, when fair waiting is on.
    queue: Option<Collection<Document>>,
    /// This process's wake-up listener for the collection, when wake-ups
    /// are on and a listener could start.
    listener: Option<std::sync::Arc<Listener>>,
}

impl Locks {
    pub async fn open(target: &Target) -> Result<Locks> {
        let shared = connection::shared(&target.client).await?;
        let concern = target.write_concern.clone().unwrap_or_default();
        let coll_name = target
            .collection
            .as_deref()
            .filter(|c| !c.is_empty())
            .unwrap_or(DEFAULT_COLLECTION);
        let coll = shared
            .database(target.db_name.as_deref())
            .collection_with_options::<Document>(
                coll_name,
                mongodb::options::CollectionOptions::builder()
                    .write_concern(concern.to_options())
                    .build(),
            );
        let namespace = coll.namespace().to_string();
        let history = target.history.as_deref().map(|name| {
            shared
                .client
                .database(coll.namespace().db.as_str())
                .collection(name)
        });
        let beside = |name: String| {
            shared
                .client
                .database(coll.namespace().db.as_str())
                .collection_with_options(
                    &name,
                    mongodb::options::CollectionOptions::builder()
                        .write_concern(concern.to_options())
                        .build(),
                )
        };
        let fencing = target
            .fencing
            .unwrap_or(false)
            .then(|| beside(fencing::fencing_collection_name(&coll.namespace().coll)));
        let queue = target
            .fair
            .unwrap_or(false)
            .then(|| beside(queue::queue_collection_name(&coll.namespace().coll)));
        let address = match target.wake_up_address.as_deref() {
            Some(ip) => Some(ip.parse().map_err(|_| {
                LockError::invalid(
                    "ERR_INVALID_OPTION",
                    format!("the wake-up address {ip:?} is not an IP address"),
                )
            })?),
            None => None,
        };
        let listener = match &target.holder {
            Some(holder) if target.wake_ups.unwrap_or(true) => {
                crate::listener::of(&shared, &namespace, &holder.host, address).await
            }
            _ => None,
        };
        Ok(Locks {
            ttl: target.ttl.unwrap_or(true),
            shared,
            coll,
            namespace,
            history,
            holder: target.holder.clone(),
            write_concern: concern.to_document(),
            fencing,
            queue,
            listener,
        })
    }

    /// Waits until the holding `at` ends in the process that holds it, as
    /// far as a wake-up can tell (see `listener.rs`): `Unreachable` at once
    /// where none can come (wake-ups off, another host, an old holder).
    pub async fn watch(&self, at: &WatchPoint) -> Woken {
        crate::pause_points::pass(crate::pause_points::WAKE_UP_WATCH).await;
        match (&self.listener, &at.host, &at.wake_up) {
            (Some(listener), Some(host), Some(wake_up)) => {
                listener.watch(host, wake_up, at.id).await
            }
            _ if self.is_closed() => Woken::Closed,
            _ => Woken::Unreachable,
        }
    }

    /// The holding `id` of this process ended outside a release or an
    /// acquire (a lease lost, a `holdAtLeast` bound reached): its watchers
    /// are told.
    pub fn ended(&self, id: ObjectId) {
        if let Some(listener) = &self.listener {
            listener.ended(id);
        }
    }

    /// Whether the client these locks use was closed (they cannot be used again).
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// A line for the application's log, once per process (TTL detection).
    fn note_once(&self, line: String) {
        notes::note_once(line);
    }

    /// The server's time now, in ms.
    async fn now_ms(&self) -> Result<i64> {
        self.shared.clock.now_ms(&self.shared.client).await
    }

    /// Bounds `work` by the operation timeout, keeps the clock honest after a
    /// connection broke, and reports work cut short by a closed client as such.
    async fn bounded<T>(
        &self,
        operation: &'static str,
        work: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        self.bounded_by(operation, self.shared.operation_timeout, work)
            .await
    }

    /// [`Locks::bounded`] with a bound of its own (at most the operation
    /// timeout). A call still running when the client closes ends at once
    /// with `ERR_CONNECTION_CLOSED`: nothing waits on a closed client.
    async fn bounded_by<T>(
        &self,
        operation: &'static str,
        limit: std::time::Duration,
        work: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        let limit = limit.min(self.shared.operation_timeout);
        let result = tokio::select! {
            result = tokio::time::timeout(limit, work) => result.unwrap_or_else(|_| {
                Err(LockError::Timeout {
                    operation,
                    after_ms: limit.as_millis(),
                })
            }),
            () = self.shared.closing() => Err(LockError::ConnectionClosed),
        };
        match result {
            Err(_) if self.shared.is_closed() => Err(LockError::ConnectionClosed),
            Err(e) if e.is_network() => {
                self.shared.clock.mark_stale();
                Err(e)
            }
            other => other,
        }
    }

    fn db(&self) -> mongodb::Database {
        self.shared
            .client
            .database(self.coll.namespace().db.as_str())
    }

    /// Inserts `documents` into `collection` (of this database) in one
    /// ordered `insert` command with the lock's write concern, and returns
    /// the reply: write errors stay in it, for the caller to read (a lock and
    /// its twin, a fencing claim and its twin).
    async fn insert_ordered(&self, collection: &str, documents: [Document; 2]) -> Result<Document> {
        let [first, second] = documents;
        let command = doc! {
            "insert": collection,
            "documents": [first, second],
            "ordered": true,
            "writeConcern": self.write_concern.clone(),
        };
        self.db()
            .run_command(command)
            .await
            .map_err(|e| LockError::driver("insert", e))
    }

    /// Deletes exactly the documents `filter` names (by `_id`).
    async fn delete_exact(&self, filter: Document) -> Result<u64> {
        self.coll
            .delete_one(filter)
            .await
            .map(|r| r.deleted_count)
            .map_err(|e| LockError::driver("delete", e))
    }

    /// The current holder of `name`: its `_id`, `expire`, `inserted`, who
    /// it is, and the holding a forced acquire removed for it, if any.
    async fn holder(&self, name: &str) -> Result<Option<Document>> {
        self.coll
            .find_one(doc! { "name": name })
            .projection(
                doc! { "_id": 1, "name": 1, "expire": 1, "inserted": 1, FORCED_FROM: 1, HOLDER: 1 },
            )
            .await
            .map_err(|e| LockError::driver("find", e))
    }

    /// Who holds `name` now (a live lease), in one round trip; `None` when
    /// nobody does.
    pub async fn status(&self, name: &str) -> Result<Option<Status>> {
        validate_name(name)?;
        self.bounded("status", async {
            let Some(doc) = self.holder(name).await? else {
                return Ok(None);
            };
            let now = self.now_ms().await?;
            Ok(status_of(&doc, now).filter(|s| s.expires_in_ms > 0))
        })
        .await
    }

    /// Every lock document of the collection (live or past its lease), by
    /// name, at most `limit`: what an operator looks at.
    pub async fn list(&self, limit: i64) -> Result<Vec<Status>> {
        self.bounded("list", async {
            let docs: Vec<Document> = self
                .coll
                .find(doc! {})
                .sort(doc! { "name": 1 })
                .limit(limit)
                .await
                .map_err(|e| LockError::driver("find", e))?
                .try_collect()
                .await
                .map_err(|e| LockError::driver("find", e))?;
            let now = self.now_ms().await?;
            Ok(docs.iter().filter_map(|d| status_of(d, now)).collect())
        })
        .await
    }

    /// Removes the lock document `lock_id` of `name` (an operator freeing a
    /// stuck lock): by its exact `_id`, so a newer holding is never touched.
    /// Returns whether it was there.
    ///
    /// The holder's process is told (its waiters try now): the document is
    /// read first, for where that process listens.
    pub async fn remove(&self, name: &str, lock_id: mongodb::bson::oid::ObjectId) -> Result<bool> {
        validate_name(name)?;
        self.bounded("remove", async {
            let filter = doc! { "_id": lock_id, "name": name };
            let found = self
                .coll
                .find_one(filter.clone())
                .projection(doc! { HOLDER: 1 })
                .await
                .map_err(|e| LockError::driver("find", e))?;
            let removed = self.delete_exact(filter).await? == 1;
            if let (true, Some(found)) = (removed, found) {
                self.tell_removed(WatchPoint::of(lock_id, &found));
            }
            Ok(removed)
        })
        .await
    }

    /// A holding of another process was removed by this one (forced, or by
    /// an operator): that process's listener is told, in the background, so
    /// that its waiters try now rather than at the lease's end.
    fn tell_removed(&self, at: WatchPoint) {
        let (Some(listener), Some(host), Some(wake_up)) = (&self.listener, at.host, at.wake_up)
        else {
            return;
        };
        let listener = std::sync::Arc::clone(listener);
        tokio::spawn(async move { listener.tell_ended(&host, &wake_up, at.id).await });
    }
}

/// A stored lock document as a [`Status`] (its `expires_in_ms` may be ≤ 0:
/// past its lease). `None` for a document without a usable `expire`.
fn status_of(doc: &Document, now: i64) -> Option<Status> {
    let expire_ms = stored_time(doc, "expire")?;
    let holder = doc.get_document(HOLDER).ok();
    let text = |field: &str| {
        holder
            .and_then(|h| h.get_str(field).ok())
            .map(str::to_string)
    };
    Some(Status {
        name: doc.get_str("name").ok().map(str::to_string),
        lock_id: match doc.get("_id") {
            Some(Bson::ObjectId(id)) => Some(id.to_hex()),
            _ => None,
        },
        acquired_ms: stored_time(doc, "inserted"),
        expire_ms,
        expires_in_ms: expire_ms - now,
        host: text("host"),
        pid: holder.and_then(|h| h.get("pid")).and_then(|p| match p {
            Bson::Int64(n) => Some(*n),
            Bson::Int32(n) => Some(i64::from(*n)),
            _ => None,
        }),
        owner: text("owner"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_never_print_credentials() {
        let target = Target {
            client: ClientSpec::from_uri("mongodb://alice:s3cret@h/"),
            ..Default::default()
        };
        assert!(!format!("{target:?}").contains("s3cret"));
    }
    use mongodb::bson::DateTime;

    #[test]
    fn names_are_checked() {
        assert_eq!(validate_name("").unwrap_err().code(), "ERR_MISSING_NAME");
        assert_eq!(validate_name("").unwrap_err().to_string(), "missing_name");
        assert!(validate_name("job:nightly-report").is_ok());
        assert!(validate_name("ключ-🔒").is_ok());
        assert_eq!(
            validate_name(&"x".repeat(MAX_NAME_BYTES + 1))
                .unwrap_err()
                .code(),
            "ERR_INVALID_NAME"
        );
        assert!(validate_name(&"x".repeat(MAX_NAME_BYTES)).is_ok());
        assert_eq!(
            validate_name("a\u{0}b").unwrap_err().code(),
            "ERR_INVALID_NAME"
        );
        // 1.0.0 reserved its sentinel's name; no name is reserved any more.
        assert!(validate_name(index::LEGACY_SENTINEL_NAME).is_ok());
    }

    #[test]
    fn timeouts_are_checked() {
        assert_eq!(validate_timeout(60_000).unwrap(), 60_000);
        for bad in [-1, MAX_DATE_MS, i64::MAX] {
            assert_eq!(
                validate_timeout(bad).unwrap_err().code(),
                "ERR_INVALID_OPTION"
            );
        }
    }

    #[test]
    fn expiry_stays_a_valid_date() {
        assert_eq!(expiry(1_000, 500).unwrap(), 1_500);
        assert!(expiry(MAX_DATE_MS - 10, 10).is_ok());
        assert!(expiry(MAX_DATE_MS - 10, 11).is_err());
        assert!(expiry(i64::MAX, 1).is_err());
    }

    #[test]
    fn stored_times_read_dates_and_numbers() {
        let d = DateTime::from_millis(42);
        assert_eq!(stored_time(&doc! { "expire": d }, "expire"), Some(42));
        assert_eq!(stored_time(&doc! { "expire": 7_i64 }, "expire"), Some(7));
        assert_eq!(stored_time(&doc! { "expire": 7_i32 }, "expire"), Some(7));
        assert_eq!(stored_time(&doc! { "expire": "soon" }, "expire"), None);
        assert_eq!(stored_time(&doc! {}, "expire"), None);
    }
}
