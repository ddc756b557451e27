//! Fencing tokens: a number per lock name (and collection) that strictly
//! increases with every holding, across releases, expiries, processes and the
//! deletion of lock documents, so that a protected resource can refuse writes
//! carrying an older token than one it has seen (a holder paused past its
//! lease writes with a stale token).
//!
//! Built on inserts into a unique key, like the lock itself: tokens are
//! claimed in a collection of their own (`<collection>_fencing`, documents
//! `{ _id, name, token, lockId }`, unique on `{ name, token }`), so the lock
//! collection keeps holding lock documents only. Every claim goes in with a
//! twin that the unique index refuses, which proves in the same round trip
//! that the index is there (a dropped fencing collection comes back without
//! it; tokens then start again, so do not drop it).
//!
//! One extra round trip on the way in. The highest token is read alongside
//! the lock insert (that read may run before the insert on the server, so it
//! may be stale); the holder then claims one above it, with the lock's `_id`
//! as the claim's `_id`, and in the same round trip reads the highest claim
//! other than its own. That second read runs after the lock insert went in.
//! The claim stands when nothing at or above it was seen:
//!
//! - a predecessor that *released* claimed before its release, so before our
//!   insert, so the second read saw its claim;
//! - a predecessor whose document was *removed* (its lease ended and someone
//!   took over, or a forced acquire) may still be claiming, late. Whoever
//!   removes a holder's document first inserts a *tombstone* with that
//!   holder's lock `_id` into this collection, so that holder's claim (same
//!   `_id`) bounces; if the tombstone bounces instead, the holder's claim was
//!   in before the removal, and the taker's reads see it;
//! - a holder whose own acquire outlived its lease gets no token (the taker
//!   may not have seen its claim; the acquire reports the lock as taken).
//!
//! Anything else (the claim bounced, or a claim at or above ours was seen)
//! goes the checked way: claim above the highest with a fresh `_id`, then
//! check that the lock document is still ours and live. A claim that went in
//! while the holding was live went in before any successor's insert, so the
//! successor's reads see it; a holding found ended gets no token.
//!
//! Old claims are pruned now and then, never the highest; a tombstone is
//! pruned a minute after the lease of the holding it stands for ended.

use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};

use super::{first_write_error, Acquired, Locks};
use crate::error::{LockError, Result, DUPLICATE_KEY};

/// How often a checked claim is retried after bouncing off a newer one.
const CLAIM_ATTEMPTS: usize = 8;
/// How often the unique index is rebuilt before a claim gives up.
const INDEX_REBUILD_ATTEMPTS: usize = 10;
/// Claims older than the newest are pruned every this many tokens.
const PRUNE_EVERY: i64 = 16;
/// A tombstone is kept this long after the lease of the holding it stands
/// for ended (a margin for the clocks of the processes involved).
const TOMBSTONE_KEPT_MS: i64 = 60_000;

/// The fencing collection of a lock collection.
pub fn fencing_collection_name(lock_collection: &str) -> String {
    format!("{lock_collection}_fencing")
}

/// Claims of `name` only: tombstones carry a string in `token`.
fn claims_of(name: &str) -> Document {
    doc! { "name": name, "token": { "$gte": 0 } }
}

/// What one claim insert (the claim, then its twin) came to.
enum Claimed {
    /// The claim went in and its twin bounced off the unique index.
    Ours,
    /// The claim bounced: the token (or, for a claim under the lock's `_id`,
    /// that `_id`: a tombstone) was there first.
    Bounced,
}

impl Locks {
    /// The highest token claimed for `name` so far (0 when none).
    pub(super) async fn highest_token(&self, name: &str) -> Result<i64> {
        self.highest_token_where(claims_of(name)).await
    }

    async fn highest_token_where(&self, filter: Document) -> Result<i64> {
        let Some(fences) = &self.fencing else {
            return Ok(0);
        };
        let top = fences
            .find_one(filter)
            .sort(doc! { "token": -1 })
            .projection(doc! { "token": 1 })
            .await
            .map_err(|e| LockError::driver("find", e))?;
        Ok(top.and_then(|d| token_of(&d)).unwrap_or(0).max(0))
    }

    /// Claims the next token for the holding just `acquired`. `highest` is
    /// the highest token read alongside the lock insert (None if that read
    /// failed). `Ok(None)`: the holding ended before it got a token.
    pub(super) async fn claim_token(
        &self,
        name: &str,
        acquired: &Acquired,
        highest: Option<i64>,
    ) -> Result<Option<i64>> {
        if self.fencing.is_none() {
            return Ok(None);
        }
        if let Some(highest) = highest {
            // One round trip: the claim under the lock's `_id`, and the
            // highest claim of anyone else, read after our lock went in.
            let candidate = highest + 1;
            let mut others = claims_of(name);
            others.insert("_id", doc! { "$ne": acquired.lock_id });
            let (claimed, others) = tokio::join!(
                self.claim(name, acquired, acquired.lock_id, candidate),
                self.highest_token_where(others)
            );
            if let (Claimed::Ours, Ok(others)) = (claimed?, others) {
                if others < candidate {
                    self.prune_later(name, candidate);
                    return Ok(Some(candidate));
                }
            }
        }
        self.claim_checked(name, acquired).await
    }

    /// The checked way: claims above the highest under a fresh `_id`, then
    /// checks that the holding is still live.
    async fn claim_checked(&self, name: &str, acquired: &Acquired) -> Result<Option<i64>> {
        let mut candidate = self.highest_token(name).await? + 1;
        for _ in 0..CLAIM_ATTEMPTS {
            match self
                .claim(name, acquired, ObjectId::new(), candidate)
                .await?
            {
                Claimed::Ours => {
                    if !self.still_ours(acquired).await? {
                        return Ok(None);
                    }
                    self.prune_later(name, candidate);
                    return Ok(Some(candidate));
                }
                Claimed::Bounced => {
                    candidate = self.highest_token(name).await?.max(candidate) + 1;
                }
            }
        }
        Err(LockError::Driver {
            operation: "fencing",
            message: format!(
                "could not claim a fencing token for {name:?}: others kept claiming first"
            ),
        })
    }

    /// One claim of `token` under `claim_id`, with its twin in the same
    /// ordered insert. Where the twin went in too (no unique index: the
    /// collection was dropped), both are withdrawn, the index rebuilt and the
    /// claim reported as bounced, to be tried again the checked way.
    async fn claim(
        &self,
        name: &str,
        acquired: &Acquired,
        claim_id: ObjectId,
        token: i64,
    ) -> Result<Claimed> {
        let Some(fences) = &self.fencing else {
            return Ok(Claimed::Bounced);
        };
        let twin_id = ObjectId::new();
        let claim = |id: ObjectId| {
            doc! {
                "_id": id,
                "name": name,
                "token": token,
                "lockId": acquired.lock_id,
                "claimed": DateTime::from_millis(acquired.time_acquired_ms),
            }
        };
        let reply = self
            .insert_ordered(fences.name(), [claim(claim_id), claim(twin_id)])
            .await?;
        match first_write_error(&reply) {
            Some((1, DUPLICATE_KEY)) => Ok(Claimed::Ours),
            Some((0, DUPLICATE_KEY)) => Ok(Claimed::Bounced),
            None => {
                let _ = fences
                    .delete_many(doc! { "_id": { "$in": [claim_id, twin_id] } })
                    .await;
                self.rebuild_fencing_index().await?;
                Ok(Claimed::Bounced)
            }
            Some((_, code)) => {
                let _ = fences
                    .delete_many(doc! { "_id": { "$in": [claim_id, twin_id] } })
                    .await;
                Err(LockError::Server {
                    operation: "insert",
                    code,
                    code_name: None,
                    message: "the fencing claim was refused".to_string(),
                    labels: Vec::new(),
                })
            }
        }
    }

    /// Before a holder's document of `name` is removed (its lease ended, or
    /// a forced acquire): a tombstone under its `_id`, so that a claim it may
    /// still send bounces. `lease_end_ms`: when its lease ends (server clock).
    /// A duplicate key is fine: its claim, or another tombstone, is there.
    pub(super) async fn tombstone(
        &self,
        name: &str,
        holder: ObjectId,
        lease_end_ms: Option<i64>,
    ) -> Result<()> {
        let Some(fences) = &self.fencing else {
            return Ok(());
        };
        let now = self.now_ms().await?;
        let until = lease_end_ms.map_or(now, |end| end.max(now));
        let stone = doc! {
            "_id": holder,
            "name": name,
            // A string: unique per holder, never read as a token.
            "token": format!("removed:{}", holder.to_hex()),
            "until": DateTime::from_millis(until.saturating_add(TOMBSTONE_KEPT_MS)),
        };
        match fences.insert_one(stone).await {
            Ok(_) => Ok(()),
            Err(e) => match LockError::driver("insert", e) {
                err if err.server_code() == Some(DUPLICATE_KEY) => Ok(()),
                err => Err(err),
            },
        }
    }

    /// Rebuilds the unique index after claims went in without it. Contenders
    /// that raced into the bare collection are withdrawing their claims, and
    /// their duplicates stop the build for a moment: try again a few times.
    async fn rebuild_fencing_index(&self) -> Result<()> {
        let mut attempt = 0;
        loop {
            match self.ensure_fencing_index().await {
                Ok(()) => return Ok(()),
                Err(e) if attempt + 1 >= INDEX_REBUILD_ATTEMPTS => return Err(e),
                Err(_) => {
                    attempt += 1;
                    let pause = 5 * attempt as u64 + u64::from(ObjectId::new().bytes()[11] % 10);
                    tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                }
            }
        }
    }

    /// Whether `acquired`'s lock document is still there, its lease running.
    async fn still_ours(&self, acquired: &Acquired) -> Result<bool> {
        let now = self.now_ms().await?;
        let found = self
            .coll
            .find_one(
                doc! { "_id": acquired.lock_id, "expire": { "$gt": DateTime::from_millis(now) } },
            )
            .projection(doc! { "_id": 1 })
            .await
            .map_err(|e| LockError::driver("find", e))?;
        Ok(found.is_some())
    }

    /// Deletes, in the background, the claims of `name` below `token` (when
    /// it is a pruning turn) and the tombstones no claim can meet any more.
    fn prune_later(&self, name: &str, token: i64) {
        if token % PRUNE_EVERY != 0 {
            return;
        }
        let Some(fences) = self.fencing.clone() else {
            return;
        };
        let shared = std::sync::Arc::clone(&self.shared);
        let name = name.to_string();
        tokio::spawn(async move {
            let _ = fences
                .delete_many(doc! { "name": &name, "token": { "$gte": 0, "$lt": token } })
                .await;
            if let Ok(now) = shared.clock.now_ms(&shared.client).await {
                let _ = fences
                    .delete_many(doc! {
                        "name": &name,
                        "token": { "$type": "string" },
                        "until": { "$lt": DateTime::from_millis(now) },
                    })
                    .await;
            }
        });
    }

    /// The unique index on `{ name, token }` of the fencing collection.
    pub(super) async fn ensure_fencing_index(&self) -> Result<()> {
        let Some(fences) = &self.fencing else {
            return Ok(());
        };
        super::index::ensure_unique(
            fences,
            doc! { "name": 1, "token": 1 },
            "name_1_token_1",
            "fencing",
        )
        .await
    }
}

fn token_of(doc: &Document) -> Option<i64> {
    super::whole_number(doc.get("token")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_read_as_whole_numbers() {
        assert_eq!(token_of(&doc! { "token": 7_i64 }), Some(7));
        assert_eq!(token_of(&doc! { "token": 7_i32 }), Some(7));
        assert_eq!(token_of(&doc! { "token": "7" }), None);
        assert_eq!(fencing_collection_name("jobs"), "jobs_fencing");
    }
}
