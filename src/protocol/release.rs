//! Release and extend: what a holder does with its own lock document, always
//! named by its exact `_id`, and what it learns when the document is no
//! longer its own.
//!
//! - **release** deletes our document while its lease runs. The answer is
//!   0.0.x's `lockTimeouted`, with the reason when it is `true`.
//! - **extend** sets a new `expire` on our document while its lease runs, in
//!   one `update` round trip. On MongoDB the conditional update is atomic. On
//!   servers where it is not (FerretDB reads the matching document, then
//!   writes by `_id`), an extend still never revives or prolongs a document
//!   another holder took over: every takeover inserts a *new* `_id`, so the
//!   write by our `_id` can only ever touch our own document; and the filter
//!   asks for our lease to have [`EXTEND_MARGIN_MS`] left, while a takeover
//!   only starts once the lease has ended, so an extend and a takeover of the
//!   same document are at least that far apart in time.
//! - A release or extend whose reply was lost is retried by the caller; the
//!   retried extend simply matches again (our document, still live), and a
//!   retried release is told `retry`, so that a document already gone is
//!   explained as our own earlier release rather than as a loss.

use mongodb::bson::{doc, oid::ObjectId, Bson, DateTime, Document};

use super::{expiry, stored_time, Locks, LostReason, FORCED_FROM};
use crate::error::{LockError, Result};

/// How much of our lease must be left for an extend to apply (or a quarter of
/// the new lease, when that is shorter): see the module's comment.
pub const EXTEND_MARGIN_MS: i64 = 500;

/// What a release or extend needs to know about the holding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holding<'a> {
    pub lock_id: ObjectId,
    pub name: &'a str,
    /// The lease's end on the server's clock, when known.
    pub expire_ms: Option<i64>,
}

/// How a holding ended, seen by its release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Released while its lease ran (`lockTimeouted = false`).
    InTime,
    /// It was no longer ours (`lockTimeouted = true`).
    Lost(LostReason),
}

/// What an extend did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewed {
    /// Our lease now ends at `expire_ms` (server clock).
    Extended { expire_ms: i64 },
    /// The lock is no longer ours.
    Lost(LostReason),
}

impl Locks {
    /// Releases `holding` if its lease has not ended.
    ///
    /// With `retry` (an earlier release of the same holding got no reply),
    /// a document already gone is our earlier release's doing, unless it is
    /// still there past its lease (expired) or a forced acquire marked the
    /// new holder as taken from us.
    ///
    /// Once the server answered, the holding's watchers in other processes
    /// are told (see `listener.rs`); a release with no answer tells them
    /// nothing, since the document may still be there.
    pub async fn release(&self, holding: Holding<'_>, retry: bool) -> Result<Ended> {
        let ended = self
            .bounded("release", async {
                let now = self.now_ms().await?;
                let filter = doc! {
                    "_id": holding.lock_id,
                    "expire": { "$gt": DateTime::from_millis(now) },
                };
                if self.delete_exact(filter).await? == 1 {
                    return Ok(Ended::InTime);
                }
                let holder = self.holder(holding.name).await?;
                let reason = explain(&holding, holder.as_ref(), now);
                let still_ours = holder
                    .as_ref()
                    .is_some_and(|h| h.get("_id") == Some(&Bson::ObjectId(holding.lock_id)));
                // Retried: gone, and not forced out, means our earlier release did it.
                Ok(if retry && !still_ours && reason != LostReason::Forced {
                    Ended::InTime
                } else {
                    Ended::Lost(reason)
                })
            })
            .await;
        if ended.is_ok() {
            self.ended(holding.lock_id);
        }
        ended
    }

    /// Renews `holding`'s lease to `lease_ms` from now (server clock), if it
    /// is still ours and has [`EXTEND_MARGIN_MS`] left.
    ///
    /// `bound_ms` bounds the call below the operation timeout (a keep-alive
    /// gives the time left on the lease: an answer after it is worthless).
    pub async fn extend(
        &self,
        holding: Holding<'_>,
        lease_ms: i64,
        bound_ms: Option<i64>,
    ) -> Result<Renewed> {
        let bound = bound_ms.map_or(self.shared.operation_timeout, |ms| {
            std::time::Duration::from_millis(ms.max(1) as u64)
        });
        let renewed = self
            .bounded_by("extend", bound, async {
                let now = self.now_ms().await?;
                let expire_ms = expiry(now, lease_ms)?;
                let margin = EXTEND_MARGIN_MS.min(lease_ms / 4);
                let filter = doc! {
                    "_id": holding.lock_id,
                    "expire": { "$gt": DateTime::from_millis(now.saturating_add(margin)) },
                };
                let update = doc! { "$set": { "expire": DateTime::from_millis(expire_ms) } };
                let matched = self
                    .coll
                    .update_one(filter, update)
                    .await
                    .map_err(|e| LockError::driver("update", e))?
                    .matched_count;
                if matched == 1 {
                    return Ok(Renewed::Extended { expire_ms });
                }
                Ok(Renewed::Lost(self.why_lost(&holding, now).await?))
            })
            .await;
        // Lost: whoever waits on it may try now.
        if let Ok(Renewed::Lost(_)) = renewed {
            self.ended(holding.lock_id);
        }
        renewed
    }

    /// Why `holding`'s document no longer answers to it, from who holds the
    /// name now (one more round trip, only on this unhappy path).
    async fn why_lost(&self, holding: &Holding<'_>, now: i64) -> Result<LostReason> {
        let holder = self.holder(holding.name).await?;
        Ok(explain(holding, holder.as_ref(), now))
    }
}

/// Why a holding is lost, given the current holder of its name (if any).
fn explain(holding: &Holding<'_>, holder: Option<&Document>, now: i64) -> LostReason {
    let Some(holder) = holder else {
        // Nobody holds the name: our document went, either after our lease
        // (a takeover that since released, or the TTL monitor) or during it.
        return match holding.expire_ms {
            Some(expire) if now < expire => LostReason::Deleted,
            _ => LostReason::Expired,
        };
    };
    let is_ours = |field: &str| matches!(holder.get(field), Some(Bson::ObjectId(id)) if *id == holding.lock_id);
    if is_ours("_id") {
        return LostReason::Expired; // still there, past its lease
    }
    if is_ours(FORCED_FROM) {
        return LostReason::Forced;
    }
    match (stored_time(holder, "inserted"), holding.expire_ms) {
        // Someone came in while our lease ran: our document was removed
        // without a forced acquire's mark.
        (Some(inserted), Some(expire)) if inserted < expire => LostReason::Deleted,
        _ => LostReason::Taken,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holding(id: ObjectId) -> Holding<'static> {
        Holding {
            lock_id: id,
            name: "n",
            expire_ms: Some(1_000),
        }
    }

    #[test]
    fn losses_are_explained_from_the_current_holder() {
        let ours = ObjectId::new();
        let h = holding(ours);
        let at = |ms: i64| DateTime::from_millis(ms);
        assert_eq!(explain(&h, None, 500), LostReason::Deleted);
        assert_eq!(explain(&h, None, 1_500), LostReason::Expired);
        let still_ours = doc! { "_id": ours, "expire": at(1_000), "inserted": at(0) };
        assert_eq!(explain(&h, Some(&still_ours), 1_500), LostReason::Expired);
        let forced = doc! { "_id": ObjectId::new(), "inserted": at(400), FORCED_FROM: ours };
        assert_eq!(explain(&h, Some(&forced), 500), LostReason::Forced);
        let after = doc! { "_id": ObjectId::new(), "inserted": at(1_200) };
        assert_eq!(explain(&h, Some(&after), 1_300), LostReason::Taken);
        let during = doc! { "_id": ObjectId::new(), "inserted": at(600) };
        assert_eq!(explain(&h, Some(&during), 700), LostReason::Deleted);
        let unknown = Holding {
            expire_ms: None,
            ..h
        };
        assert_eq!(explain(&unknown, Some(&during), 700), LostReason::Taken);
        assert_eq!(explain(&unknown, None, 700), LostReason::Expired);
    }
}
