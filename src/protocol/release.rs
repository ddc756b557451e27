//! Release: delete our lock document, by its exact `_id`, while its lease runs.
//!
//! The answer is 0.0.x's `lockTimeouted`: `false` when released in time,
//! `true` when the lease had already ended (or the lock was no longer ours).
//! A release whose reply was lost is retried by the caller with `retry`; the
//! document is then usually gone already, and the answer must still be the
//! truth, so the retry looks at who holds the name now (see [`Locks::release`]).

use mongodb::bson::{doc, oid::ObjectId, Bson, DateTime};

use super::{stored_time, Locks};
use crate::error::Result;

/// What a release needs to know about the holding it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holding<'a> {
    pub lock_id: ObjectId,
    pub name: &'a str,
    /// The lease's end on the server's clock, when known.
    pub expire_ms: Option<i64>,
}

impl Locks {
    /// Releases `holding` if its lease has not ended. Returns `true` when it
    /// had ended (the 0.0.x `lockTimeouted`).
    ///
    /// With `retry` (an earlier release of the same holding got no reply),
    /// a document already gone is explained: if the name is held by a
    /// document inserted *before* our lease ended, someone took it from us
    /// (a forced acquire), so `true`; if our document is still there, its
    /// lease ended, so `true`; otherwise our earlier release removed it in
    /// time, so `false`.
    pub async fn release(&self, holding: Holding<'_>, retry: bool) -> Result<bool> {
        self.bounded("release", async {
            let now = self.now_ms().await?;
            let filter = doc! {
                "_id": holding.lock_id,
                "expire": { "$gt": DateTime::from_millis(now) },
            };
            if self.delete_exact(filter).await? == 1 {
                return Ok(false);
            }
            let Some(expire_ms) = holding.expire_ms.filter(|_| retry) else {
                return Ok(true);
            };
            let Some(holder) = self.holder(holding.name).await? else {
                return Ok(false);
            };
            if matches!(holder.get("_id"), Some(Bson::ObjectId(id)) if *id == holding.lock_id) {
                return Ok(true); // still ours, and past its lease
            }
            let taken_in_our_lease =
                stored_time(&holder, "inserted").is_some_and(|t| t < expire_ms);
            Ok(taken_in_our_lease)
        })
        .await
    }
}
