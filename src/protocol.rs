//! The lock protocol.
//!
//! A lock is a document `{ _id, name, expire, inserted }` in a collection with
//! a unique index on `name`, the same shape the 0.0.x package writes, so old
//! and new instances exclude each other during a rolling deploy.
//!
//! Ownership only ever changes through an *insert* into the unique key: that
//! is atomic on every MongoDB-compatible server, whereas conditional updates
//! and deletes are not atomic on some of them (FerretDB reads, then writes by
//! `_id`). Deletes here only ever target one exact `_id`, and every takeover
//! inserts a fresh `_id`, so a late or non-atomic delete can never remove the
//! current holder's document.
//!
//! The unique index is what makes an insert exclusive, so an acquire must know
//! the index was there. A collection that was dropped comes back on the next
//! insert *without* it. Each acquire therefore inserts two documents in one
//! ordered `insert` command: the lock, then an *index probe* whose name is
//! that of a sentinel document kept in the collection. The probe failing with
//! a duplicate key proves, in the same round trip, that the unique index
//! existed right after the lock went in. If the probe goes in, the index (or
//! the sentinel) is gone: the lock is withdrawn, the index rebuilt, and the
//! acquire tried again.

use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};

use crate::connection::{self, Shared, Target};
use crate::error::{LockError, Result, DUPLICATE_KEY, NAMESPACE_NOT_FOUND};

/// The largest time a JS `Date` can hold (ms since the epoch), so that the
/// 0.0.x package, which reads `expire` through mongoose, can still read it.
pub const MAX_DATE_MS: i64 = 8_640_000_000_000_000;
/// Names longer than this (UTF-8 bytes) are refused: MongoDB before 4.2
/// refuses index keys over 1024 bytes, so such names could not be shared.
pub const MAX_NAME_BYTES: usize = 1000;
/// How often one acquire re-tries after losing a race (a holder that expired
/// or vanished between two steps) before it reports the lock as taken.
const MAX_ATTEMPTS: usize = 8;
const INDEX_NAME: &str = "name_1";
/// Name of the sentinel document (and of every index probe). Reserved: no
/// lock may have it. It has no `expire`, so 0.0.x never takes it over.
pub const INDEX_PROBE_NAME: &str = "mongoose-distributed-lock:index-probe";
/// How often an acquire rebuilds the index before giving up: racing
/// contenders may briefly leave duplicate names that stop the build.
const INDEX_BUILD_ATTEMPTS: usize = 10;

/// What one lock-plus-probe insert found out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inserted {
    /// The lock went in and the probe hit the unique index: acquired.
    Proven,
    /// The name is taken: the lock hit the unique index (the probe was not tried).
    Taken,
    /// Both went in: the index or the sentinel is missing.
    Unproven,
}

/// A lock taken: its document's id and the server time it was taken at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acquired {
    pub lock_id: ObjectId,
    pub time_acquired_ms: i64,
}

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
    if name == INDEX_PROBE_NAME {
        return Err(LockError::invalid(
            "ERR_INVALID_NAME",
            format!("the lock name {INDEX_PROBE_NAME:?} is reserved"),
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

/// Parses a timeout in ms (as JS gives it) into whole ms.
pub fn validate_timeout(timeout_ms: f64) -> Result<i64> {
    if !timeout_ms.is_finite() || timeout_ms < 0.0 || timeout_ms >= MAX_DATE_MS as f64 {
        return Err(LockError::invalid(
            "ERR_INVALID_OPTION",
            format!("timeout must be a finite number of ms from 0 to {MAX_DATE_MS}"),
        ));
    }
    Ok(timeout_ms as i64)
}

pub fn parse_lock_id(lock_id: &str) -> Result<ObjectId> {
    ObjectId::parse_str(lock_id).map_err(|_| {
        LockError::invalid(
            "ERR_INVALID_LOCK_ID",
            "lockId must be the 24-character hex string of an ObjectId",
        )
    })
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

/// The expiry of a stored lock document, in ms, if it has a usable one.
/// 0.0.x writes a `Date`; a number is taken as ms, for hand-made documents.
pub fn stored_expiry(doc: &Document) -> Option<i64> {
    match doc.get("expire")? {
        Bson::DateTime(d) => Some(d.timestamp_millis()),
        Bson::Int64(n) => Some(*n),
        Bson::Int32(n) => Some(i64::from(*n)),
        Bson::Double(f) if f.is_finite() => Some(*f as i64),
        _ => None,
    }
}

/// Whether an index description is a unique index on exactly `{ name: 1 }`.
pub fn is_unique_name_index(index: &Document) -> bool {
    let unique = matches!(index.get("unique"), Some(Bson::Boolean(true)));
    let key_is_name = index.get_document("key").is_ok_and(|key| {
        key.len() == 1
            && match key.get("name") {
                Some(Bson::Int32(1)) | Some(Bson::Int64(1)) => true,
                Some(Bson::Double(f)) => *f == 1.0,
                _ => false,
            }
    });
    unique && key_is_name
}

/// The locks of one collection, on one shared client.
pub struct Locks {
    shared: std::sync::Arc<Shared>,
    coll: Collection<Document>,
    namespace: String,
}

impl Locks {
    pub async fn open(target: &Target) -> Result<Locks> {
        let shared = connection::shared(target).await?;
        let coll = shared.collection::<Document>(target);
        let namespace = coll.namespace().to_string();
        Ok(Locks {
            shared,
            coll,
            namespace,
        })
    }

    /// The server's time now, in ms.
    async fn now_ms(&self) -> Result<i64> {
        self.shared.clock.now_ms(&self.shared.client).await
    }

    /// Bounds `work` by the operation timeout, and keeps the clock honest
    /// after a connection broke.
    async fn bounded<T>(
        &self,
        operation: &'static str,
        work: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        let limit = self.shared.operation_timeout;
        let result = tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
            Err(LockError::Timeout {
                operation,
                after_ms: limit.as_millis(),
            })
        });
        if let Err(e) = &result {
            if e.is_network() {
                self.shared.clock.mark_stale();
            }
        }
        result
    }

    /// Tries once to take the lock `name` for `timeout_ms`.
    /// `Ok(None)` means another holder has it and it has not expired.
    pub async fn acquire(&self, name: &str, timeout_ms: i64) -> Result<Option<Acquired>> {
        self.bounded("acquire", self.acquire_inner(name, timeout_ms))
            .await
    }

    async fn acquire_inner(&self, name: &str, timeout_ms: i64) -> Result<Option<Acquired>> {
        #[cfg(debug_assertions)]
        if name == "__mdl_debug_panic__" {
            // Test-only trigger (debug builds only): proves a panic becomes an Error.
            panic!("debug panic trigger");
        }
        validate_name(name)?;
        if !self.shared.index_ensured(&self.namespace) {
            self.ensure_index().await?;
        }
        for _ in 0..MAX_ATTEMPTS {
            let now = self.now_ms().await?;
            let lock_id = ObjectId::new();
            let lock = doc! {
                "_id": lock_id,
                "name": name,
                "expire": DateTime::from_millis(expiry(now, timeout_ms)?),
                "inserted": DateTime::from_millis(now),
            };
            let probe_id = ObjectId::new();
            let acquired = Acquired {
                lock_id,
                time_acquired_ms: now,
            };
            match self.insert_with_probe(lock, probe_doc(probe_id)).await? {
                Inserted::Proven => return Ok(Some(acquired)),
                Inserted::Taken => {
                    if !self.take_over_if_expired(name).await? {
                        return Ok(None);
                    }
                }
                Inserted::Unproven => {
                    if self.index_present().await? {
                        // Only the sentinel was missing: our probe is the new one.
                        return Ok(Some(acquired));
                    }
                    // The collection was dropped and our insert re-created it
                    // without the index: the insert proves nothing. Undo it,
                    // rebuild the index and try again.
                    self.shared.set_index_ensured(&self.namespace, false);
                    self.delete_exact(doc! { "_id": lock_id }).await?;
                    self.delete_exact(doc! { "_id": probe_id }).await?;
                    self.ensure_index().await?;
                }
            }
        }
        // Others kept winning the races for this name: report it as taken.
        Ok(None)
    }

    /// Inserts the lock, then the probe, in one ordered `insert` command.
    async fn insert_with_probe(&self, lock: Document, probe: Document) -> Result<Inserted> {
        let lock_id = lock.get("_id").cloned().unwrap_or(Bson::Null);
        let command = doc! {
            "insert": self.coll.name(),
            "documents": [lock, probe],
            "ordered": true,
        };
        let reply = self
            .db()
            .run_command(command)
            .await
            .map_err(|e| LockError::driver("insert", e))?;
        let outcome = classify_insert_reply(&reply);
        if outcome.is_err() && write_error_index(&reply) != Some(0) {
            // The lock may have gone in before the failure: take it back.
            let _ = self.delete_exact(doc! { "_id": lock_id }).await;
        }
        outcome
    }

    fn db(&self) -> mongodb::Database {
        self.shared
            .client
            .database(self.coll.namespace().db.as_str())
    }

    /// After a duplicate key: removes the holder if it has expired.
    /// Returns whether the name may be free now (so inserting again makes sense).
    async fn take_over_if_expired(&self, name: &str) -> Result<bool> {
        let holder = self
            .coll
            .find_one(doc! { "name": name })
            .projection(doc! { "_id": 1, "expire": 1 })
            .await
            .map_err(|e| LockError::driver("find", e))?;
        let Some(holder) = holder else {
            return Ok(true); // released between our insert and our look
        };
        let Some(expire_ms) = stored_expiry(&holder) else {
            return Ok(false); // no usable expiry: respect it, as 0.0.x does
        };
        if expire_ms >= self.now_ms().await? {
            return Ok(false);
        }
        // Exactly that expired document: if someone else took over first,
        // theirs has a new `_id` and this deletes nothing.
        let filter = doc! {
            "_id": holder.get("_id").cloned().unwrap_or(Bson::Null),
            "expire": holder.get("expire").cloned().unwrap_or(Bson::Null),
        };
        self.delete_exact(filter).await?;
        Ok(true)
    }

    async fn delete_exact(&self, filter: Document) -> Result<u64> {
        self.coll
            .delete_one(filter)
            .await
            .map(|r| r.deleted_count)
            .map_err(|e| LockError::driver("delete", e))
    }

    /// Releases the lock document `lock_id` if it has not expired.
    /// Returns `true` when it had expired (the 0.0.x `lockTimeouted`).
    pub async fn release(&self, lock_id: ObjectId) -> Result<bool> {
        self.bounded("release", async {
            let now = self.now_ms().await?;
            let filter = doc! { "_id": lock_id, "expire": { "$gt": DateTime::from_millis(now) } };
            Ok(self.delete_exact(filter).await? == 0)
        })
        .await
    }

    /// Whether the unique index on `name` is in place right now.
    async fn index_present(&self) -> Result<bool> {
        let db = self
            .shared
            .client
            .database(self.coll.namespace().db.as_str());
        let listed = db
            .run_cursor_command(doc! { "listIndexes": self.coll.name() })
            .await;
        let cursor = match listed {
            Ok(cursor) => cursor,
            Err(e) => {
                let err = LockError::driver("listIndexes", e);
                return match err.server_code() {
                    Some(NAMESPACE_NOT_FOUND) => Ok(false),
                    _ => Err(err),
                };
            }
        };
        let indexes: Vec<Document> = cursor
            .try_collect()
            .await
            .map_err(|e| LockError::driver("listIndexes", e))?;
        Ok(indexes.iter().any(is_unique_name_index))
    }

    /// Makes sure the unique index on `name` and the sentinel exist.
    /// The index is created like the 0.0.x mongoose model creates it, so
    /// either side's index creation is a no-op for the other.
    pub async fn ensure_index(&self) -> Result<()> {
        let mut last_error = None;
        for attempt in 0..INDEX_BUILD_ATTEMPTS {
            if self.index_present().await? {
                last_error = None;
                break;
            }
            let model = IndexModel::builder()
                .keys(doc! { "name": 1 })
                .options(
                    IndexOptions::builder()
                        .name(INDEX_NAME.to_string())
                        .unique(true)
                        .build(),
                )
                .build();
            match self.coll.create_index(model).await {
                Ok(_) => {
                    last_error = None;
                    break;
                }
                // Duplicate names stop the build; contenders that raced into
                // a dropped collection are withdrawing theirs: wait a little.
                Err(e) => {
                    last_error = Some(LockError::driver("createIndexes", e));
                    let pause =
                        5 + 5 * attempt as u64 + u64::from(ObjectId::new().bytes()[11] % 10);
                    tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                }
            }
        }
        if let Some(err) = last_error {
            return Err(LockError::Index {
                message: format!(
                    "cannot create the unique index on `name` in {}: {err}",
                    self.namespace
                ),
            });
        }
        match self.coll.insert_one(probe_doc(ObjectId::new())).await {
            Ok(_) => {}
            Err(e) => {
                let err = LockError::driver("insert", e);
                if err.server_code() != Some(DUPLICATE_KEY) {
                    return Err(err);
                }
            }
        }
        self.shared.set_index_ensured(&self.namespace, true);
        Ok(())
    }
}

/// The sentinel, or an index probe: same name, fresh `_id`.
fn probe_doc(id: ObjectId) -> Document {
    doc! {
        "_id": id,
        "name": INDEX_PROBE_NAME,
        "note": "kept by mongoose-distributed-lock to prove the unique index on name exists",
    }
}

/// The `index` of the first write error in an `insert` reply, if any.
fn write_error_index(reply: &Document) -> Option<i64> {
    let first = reply
        .get_array("writeErrors")
        .ok()?
        .first()?
        .as_document()?;
    match first.get("index")? {
        Bson::Int32(i) => Some(i64::from(*i)),
        Bson::Int64(i) => Some(*i),
        _ => None,
    }
}

/// Reads the reply of the lock-plus-probe `insert` command.
fn classify_insert_reply(reply: &Document) -> Result<Inserted> {
    if let Ok(wce) = reply.get_document("writeConcernError") {
        return Err(LockError::Server {
            operation: "insert",
            code: wce.get_i32("code").unwrap_or(64),
            code_name: wce.get_str("codeName").ok().map(str::to_string),
            message: wce
                .get_str("errmsg")
                .unwrap_or("write concern error")
                .to_string(),
            labels: Vec::new(),
        });
    }
    let Ok(errors) = reply.get_array("writeErrors") else {
        return Ok(Inserted::Unproven);
    };
    let Some(first) = errors.first().and_then(Bson::as_document) else {
        return Ok(Inserted::Unproven);
    };
    let code = first.get_i32("code").unwrap_or(0);
    match (write_error_index(reply), code) {
        (Some(0), DUPLICATE_KEY) => Ok(Inserted::Taken),
        (Some(1), DUPLICATE_KEY) => Ok(Inserted::Proven),
        _ => Err(LockError::Server {
            operation: "insert",
            code,
            code_name: first.get_str("codeName").ok().map(str::to_string),
            message: first.get_str("errmsg").unwrap_or("write error").to_string(),
            labels: Vec::new(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn the_probe_name_is_reserved() {
        assert_eq!(
            validate_name(INDEX_PROBE_NAME).unwrap_err().code(),
            "ERR_INVALID_NAME"
        );
    }

    #[test]
    fn insert_replies_are_classified() {
        let dup = |index: i32| doc! { "n": 1, "ok": 1.0, "writeErrors": [{ "index": index, "code": 11000, "errmsg": "E11000" }] };
        assert_eq!(classify_insert_reply(&dup(1)).unwrap(), Inserted::Proven);
        assert_eq!(classify_insert_reply(&dup(0)).unwrap(), Inserted::Taken);
        assert_eq!(
            classify_insert_reply(&doc! { "n": 2, "ok": 1.0 }).unwrap(),
            Inserted::Unproven
        );
        let other = doc! { "n": 0, "ok": 1.0, "writeErrors": [{ "index": 0, "code": 121, "errmsg": "invalid" }] };
        assert_eq!(
            classify_insert_reply(&other).unwrap_err().server_code(),
            Some(121)
        );
        let wce =
            doc! { "n": 1, "ok": 1.0, "writeConcernError": { "code": 64, "errmsg": "timeout" } };
        assert!(classify_insert_reply(&wce).is_err());
        assert_eq!(write_error_index(&dup(1)), Some(1));
        assert_eq!(write_error_index(&doc! {}), None);
    }

    #[test]
    fn timeouts_are_checked() {
        assert_eq!(validate_timeout(60_000.0).unwrap(), 60_000);
        assert_eq!(validate_timeout(1.9).unwrap(), 1);
        for bad in [-1.0, f64::NAN, f64::INFINITY, 1e300] {
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
    fn lock_ids_must_be_object_ids() {
        let id = ObjectId::new();
        assert_eq!(parse_lock_id(&id.to_hex()).unwrap(), id);
        assert_eq!(
            parse_lock_id("nope").unwrap_err().code(),
            "ERR_INVALID_LOCK_ID"
        );
    }

    #[test]
    fn stored_expiry_reads_dates_and_numbers() {
        let d = DateTime::from_millis(42);
        assert_eq!(stored_expiry(&doc! { "expire": d }), Some(42));
        assert_eq!(stored_expiry(&doc! { "expire": 7_i64 }), Some(7));
        assert_eq!(stored_expiry(&doc! { "expire": 7_i32 }), Some(7));
        assert_eq!(stored_expiry(&doc! { "expire": "soon" }), None);
        assert_eq!(stored_expiry(&doc! {}), None);
    }

    #[test]
    fn only_a_unique_index_on_name_alone_counts() {
        assert!(is_unique_name_index(
            &doc! { "key": { "name": 1 }, "unique": true }
        ));
        assert!(is_unique_name_index(
            &doc! { "key": { "name": 1.0 }, "unique": true }
        ));
        assert!(!is_unique_name_index(&doc! { "key": { "name": 1 } }));
        assert!(!is_unique_name_index(
            &doc! { "key": { "name": -1 }, "unique": true }
        ));
        assert!(!is_unique_name_index(
            &doc! { "key": { "name": 1, "x": 1 }, "unique": true }
        ));
    }
}
