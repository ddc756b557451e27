//! The opt-in history of holdings: one record per holding, in a collection of
//! its own (`distributedlocks_history` by default), keyed by the holding's
//! lock id so that writing it twice changes nothing. Recorded when a holding
//! starts and when it ends (`released`, `expired`, `taken`, `forced`, or
//! `deleted`), with server times. History never delays or fails a lock call:
//! the caller starts these writes without waiting, and only logs failures.

use mongodb::bson::{doc, oid::ObjectId, DateTime};

use super::Locks;
use crate::error::{LockError, Result, DUPLICATE_KEY};

/// Where history goes with `history: true`: the lock collection's default
/// name with `_history`.
pub const DEFAULT_HISTORY_COLLECTION: &str = "distributedlocks_history";

impl Locks {
    /// Records the start of a holding (no-op when history is off).
    pub async fn record_start(
        &self,
        lock_id: ObjectId,
        name: &str,
        acquired_ms: i64,
    ) -> Result<()> {
        let Some(history) = &self.history else {
            return Ok(());
        };
        let mut record = doc! {
            "name": name,
            "lockId": lock_id,
            "acquired": DateTime::from_millis(acquired_ms),
        };
        if let Some(holder) = &self.holder {
            record.insert(super::HOLDER, holder.to_document());
        }
        // `$set`, not `$setOnInsert`: whichever of start and end arrives first
        // creates the record, and the other fills in its own fields.
        let write = || {
            history
                .update_one(doc! { "_id": lock_id }, doc! { "$set": record.clone() })
                .upsert(true)
        };
        match write().await {
            Ok(_) => Ok(()),
            // Two upserts raced (where upserts are not atomic): the record exists now.
            Err(e)
                if LockError::driver("history", e.clone()).server_code() == Some(DUPLICATE_KEY) =>
            {
                write()
                    .await
                    .map(|_| ())
                    .map_err(|e| LockError::driver("history", e))
            }
            Err(e) => Err(LockError::driver("history", e)),
        }
    }

    /// Records how a holding ended, unless its end is already recorded
    /// (the first to know wins). `ended_ms`: when, or now.
    pub async fn record_end(
        &self,
        lock_id: ObjectId,
        name: &str,
        how: &str,
        ended_ms: Option<i64>,
    ) -> Result<()> {
        let Some(history) = &self.history else {
            return Ok(());
        };
        let ended = match ended_ms {
            Some(ms) => ms,
            None => self.now_ms().await?,
        };
        let filter = doc! { "_id": lock_id, "ended": { "$exists": false } };
        let update = doc! {
            "$set": { "ended": DateTime::from_millis(ended), "how": how, "name": name, "lockId": lock_id },
        };
        match history.update_one(filter, update).upsert(true).await {
            Ok(_) => Ok(()),
            // Its end was recorded already: the upsert met the existing _id.
            Err(e) => match LockError::driver("history", e) {
                err if err.server_code() == Some(DUPLICATE_KEY) => Ok(()),
                err => Err(err),
            },
        }
    }
}
