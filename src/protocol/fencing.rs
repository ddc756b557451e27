//! Fencing tokens: a number per lock name (and collection) that strictly
//! increases with every holding, across releases, expiries, processes and the
//! deletion of lock documents, so that a protected resource can refuse writes
//! carrying an older token than one it has seen (a holder paused past its
//! lease writes with a stale token).
//!
//! Built on inserts into a unique key, like the lock itself: tokens are
//! claimed in a collection of their own (`<collection>_fencing`, documents
//! `{ name, token, lockId }`, unique on `{ name, token }`), so the lock
//! collection keeps holding lock documents only. A holder claims
//! `highest + 1` right after its lock insert went in; the highest token is
//! read in the same round trip as that insert, so fencing costs one extra
//! round trip (the claim). Like the lock, each claim goes in with a twin
//! that the unique index refuses, which proves in the same round trip that
//! the index is there: a dropped fencing collection (tokens then start
//! again, do not drop it) never hands one token to two holdings.
//!
//! Why the tokens of successive holdings increase: a claim only succeeds for
//! a token nobody claimed yet, and a holding's candidate is one above the
//! highest claim it read after its predecessor's claim went in, so a later
//! holding's token is higher unless both picked the same number, where one
//! bounces. A holder whose claim bounces (someone claimed it since its read)
//! reads again, claims above everything, and then checks that its lock
//! document is still live before using the token; a holding that ended
//! meanwhile gets no token (the acquire reports the lock as taken): a stale
//! holder never ends up above its successor. A holder whose first claim was
//! slow may still carry a token after its lease ended; it is lower than its
//! successor's, which is what a fenced resource needs. Old claims are pruned
//! now and then, never the highest.

use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};

use super::{first_write_error, Acquired, Locks};
use crate::error::{LockError, Result, DUPLICATE_KEY};

/// How often a claim is retried after bouncing off a newer one.
const CLAIM_ATTEMPTS: usize = 8;
/// How often the unique index is rebuilt before a claim gives up.
const INDEX_REBUILD_ATTEMPTS: usize = 10;
/// Claims older than the newest are pruned every this many tokens.
const PRUNE_EVERY: i64 = 16;

/// The fencing collection of a lock collection.
pub fn fencing_collection_name(lock_collection: &str) -> String {
    format!("{lock_collection}_fencing")
}

impl Locks {
    /// The highest token claimed for `name` so far (0 when none).
    pub(super) async fn highest_token(&self, name: &str) -> Result<i64> {
        let Some(fences) = &self.fencing else {
            return Ok(0);
        };
        let top = fences
            .find_one(doc! { "name": name })
            .sort(doc! { "token": -1 })
            .projection(doc! { "token": 1 })
            .await
            .map_err(|e| LockError::driver("find", e))?;
        Ok(top.and_then(|d| token_of(&d)).unwrap_or(0))
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
        let Some(fences) = &self.fencing else {
            return Ok(None);
        };
        let mut bounced = highest.is_none();
        let mut candidate = match highest {
            Some(h) => h + 1,
            None => self.highest_token(name).await? + 1,
        };
        for _ in 0..CLAIM_ATTEMPTS {
            let claim_id = ObjectId::new();
            let twin_id = ObjectId::new();
            let claim = |id: ObjectId| {
                doc! {
                    "_id": id,
                    "name": name,
                    "token": candidate,
                    "lockId": acquired.lock_id,
                    "claimed": DateTime::from_millis(acquired.time_acquired_ms),
                }
            };
            // The claim and its twin in one ordered insert, as for the lock:
            // the twin bouncing proves the unique index on { name, token }
            // is there (a dropped fencing collection comes back without it).
            let reply = self
                .insert_ordered(fences.name(), [claim(claim_id), claim(twin_id)])
                .await?;
            match first_write_error(&reply) {
                // The claim went in, its twin bounced: ours.
                Some((1, DUPLICATE_KEY)) => {
                    if bounced && !self.still_ours(acquired).await? {
                        return Ok(None);
                    }
                    if candidate % PRUNE_EVERY == 0 {
                        self.prune_later(name, candidate);
                    }
                    return Ok(Some(candidate));
                }
                // Someone claimed this token first.
                Some((0, DUPLICATE_KEY)) => {
                    bounced = true;
                    candidate = self.highest_token(name).await?.max(candidate) + 1;
                }
                // Both went in: no unique index. Withdraw, rebuild, claim again.
                None => {
                    let _ = fences
                        .delete_many(doc! { "_id": { "$in": [claim_id, twin_id] } })
                        .await;
                    self.rebuild_fencing_index().await?;
                    bounced = true;
                    candidate = self.highest_token(name).await?.max(candidate) + 1;
                }
                Some((_, code)) => {
                    let _ = fences
                        .delete_many(doc! { "_id": { "$in": [claim_id, twin_id] } })
                        .await;
                    return Err(LockError::Server {
                        operation: "insert",
                        code,
                        code_name: None,
                        message: "the fencing claim was refused".to_string(),
                        labels: Vec::new(),
                    });
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

    /// Deletes, in the background, the claims of `name` below `token`.
    fn prune_later(&self, name: &str, token: i64) {
        let Some(fences) = self.fencing.clone() else {
            return;
        };
        let name = name.to_string();
        tokio::spawn(async move {
            let _ = fences
                .delete_many(doc! { "name": name, "token": { "$lt": token } })
                .await;
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
    match doc.get("token")? {
        mongodb::bson::Bson::Int64(n) => Some(*n),
        mongodb::bson::Bson::Int32(n) => Some(i64::from(*n)),
        mongodb::bson::Bson::Double(f) if f.is_finite() => Some(*f as i64),
        _ => None,
    }
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
