//! Acquire, takeover of a lock whose holder's lease has expired, and forced
//! acquire (whoever holds it), all through an insert of a new document.
//!
//! The unique index is what makes an insert exclusive, so an acquire must know
//! the index was there: a collection that was dropped comes back on the next
//! insert *without* it. Each acquire therefore inserts two documents in one
//! ordered `insert` command: the lock, then its *twin* (same name, fresh
//! `_id`, already expired). With the index the twin always bounces off the
//! lock (a duplicate key at index 1), which proves in the same round trip that
//! the index existed right after the lock went in; nothing but the lock stays
//! in the collection. If the twin goes in too, the index is gone: both are
//! withdrawn, the index rebuilt, and the acquire tried again.
//!
//! An insert whose reply never came (a cut connection, a timeout) has an
//! unknown outcome. Its lock document may sit in the collection, blocking the
//! name until its lease ends: the core deletes exactly that `_id` in the
//! background once the server answers again, and the caller, told the `_id`
//! ([`LockError::Unresolved`]), recognises the document as its own on its
//! next acquire.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use mongodb::bson::{doc, oid::ObjectId, Bson, DateTime, Document};

use super::{
    expiry, first_write_error, stored_time, validate_name, Locks, LostReason, WatchPoint, HOLDER,
    WAKE_UP,
};
use crate::abort::Abort;
use crate::error::{LockError, Result, DUPLICATE_KEY};
use crate::pause_points;

/// How often one acquire re-tries after losing a race (a holder that expired
/// or vanished between two steps) before it reports the lock as taken.
const MAX_ATTEMPTS: usize = 8;
/// Pauses between the background deletes of an unresolved insert.
const WITHDRAW_FIRST_PAUSE: Duration = Duration::from_millis(50);
const WITHDRAW_MAX_PAUSE: Duration = Duration::from_secs(2);
/// How long the background deletes of an unresolved insert go on at most
/// (they stop sooner when the lease ends or the lock document is deleted).
const WITHDRAW_FOR_AT_MOST: Duration = Duration::from_secs(60);

/// The field a forced acquire adds to its lock document: the `_id` of the
/// holding it removed, so that holder can tell it was forced out (0.0.x
/// ignores fields it does not know).
pub const FORCED_FROM: &str = "forcedFrom";

/// A lock taken: its document's id and lease, on the server's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acquired {
    pub lock_id: ObjectId,
    pub time_acquired_ms: i64,
    pub expire_ms: i64,
    /// The holding this acquire removed to get the lock, if any.
    pub replaced: Option<Replaced>,
    /// The fencing token of this holding, when fencing is on (see `fencing.rs`).
    pub fencing_token: Option<i64>,
}

/// A holding removed by a takeover or a forced acquire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replaced {
    pub lock_id: ObjectId,
    /// `Taken` (its lease had ended) or `Forced`.
    pub how: LostReason,
    /// When the holding ended, on the server's clock: its expiry, or now.
    pub ended_ms: i64,
}

/// What an acquire does about a live holder.
#[derive(Debug, Clone, Copy)]
enum Mode<'a> {
    /// Respect it; `own` lists our own documents from inserts with no reply.
    Respect { own: &'a [ObjectId] },
    /// Remove it (a forced acquire).
    Force,
}

/// What one acquire attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Acquired(Acquired),
    /// Someone else holds the lock; its lease ends in this many ms (server
    /// clock) when known, so that a waiter can come back right then, and
    /// the holding a waiter may watch for its end (see `listener.rs`).
    Held {
        expires_in_ms: Option<i64>,
        holder: Option<WatchPoint>,
    },
}

/// What a look at the holder after a duplicate key found.
enum Holder {
    /// Live and respected: the lock is taken, for this many ms more.
    Live {
        expires_in_ms: Option<i64>,
        holder: Option<WatchPoint>,
    },
    /// Gone, or removed just now: insert again.
    Gone(Option<Replaced>),
}

/// What one lock-plus-twin insert found out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inserted {
    /// The lock went in and its twin hit the unique index: acquired.
    Proven,
    /// The name is taken: the lock hit the unique index (the twin was not tried).
    Taken,
    /// Both went in: the unique index is missing.
    Unproven,
}

/// An insert sent and not yet answered.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    lock_id: ObjectId,
    twin_id: ObjectId,
    lease_ends: Instant,
}

impl Locks {
    /// Tries once to take the lock `name` for `timeout_ms`. [`Outcome::Held`]
    /// means another holder has it and its lease has not ended. `own` lists lock
    /// documents this caller inserted without learning the outcome: one of
    /// them found holding the name is deleted and the name taken afresh.
    ///
    /// `abort`, once flipped, ends the call with `LockError::Aborted`; an
    /// insert already sent is then withdrawn in the background.
    pub async fn acquire(
        &self,
        name: &str,
        timeout_ms: i64,
        own: &[ObjectId],
        abort: Option<&Abort>,
    ) -> Result<Outcome> {
        self.take("acquire", name, timeout_ms, Mode::Respect { own }, abort)
            .await
    }

    /// Takes the lock `name` whoever holds it: the holder's document is
    /// removed by its exact `_id`, then ours inserted (with [`FORCED_FROM`]).
    /// [`Outcome::Held`] only when others kept winning the name for [`MAX_ATTEMPTS`].
    pub async fn force(&self, name: &str, timeout_ms: i64) -> Result<Outcome> {
        self.take("forceAcquire", name, timeout_ms, Mode::Force, None)
            .await
    }

    async fn take(
        &self,
        operation: &'static str,
        name: &str,
        timeout_ms: i64,
        mode: Mode<'_>,
        abort: Option<&Abort>,
    ) -> Result<Outcome> {
        let in_flight = Mutex::new(None);
        let registered = Mutex::new(Vec::new());
        let removed = Mutex::new(Vec::new());
        let work = self.bounded(
            operation,
            self.take_inner(name, timeout_ms, mode, &in_flight, &registered, &removed),
        );
        let result = match abort {
            Some(abort) => tokio::select! {
                result = work => result,
                () = abort.aborted() => Err(LockError::Aborted),
            },
            None => work.await,
        };
        let unanswered = in_flight.lock().unwrap_or_else(|p| p.into_inner()).take();
        // Every document registered with the wake-up listener but not held
        // now ends there: its watchers try again (see `listener.rs`).
        if let Some(listener) = &self.listener {
            let held = match &result {
                Ok(Outcome::Acquired(acquired)) => Some(acquired.lock_id),
                _ => None,
            };
            for id in registered.into_inner().unwrap_or_else(|p| p.into_inner()) {
                if Some(id) != held {
                    listener.ended(id);
                }
            }
        }
        // Holdings this call forced out: their processes are told now that
        // ours is in (told earlier, their waiters could slip in between the
        // removal and our insert, only to be forced out in turn).
        for at in removed.into_inner().unwrap_or_else(|p| p.into_inner()) {
            self.tell_removed(at);
        }
        match (result, unanswered) {
            (Err(LockError::Aborted), Some(insert)) => {
                self.withdraw_later(insert);
                Err(LockError::Aborted)
            }
            (Err(e), Some(insert)) if e.is_network() => {
                self.withdraw_later(insert);
                Err(LockError::Unresolved {
                    lock_id: insert.lock_id,
                    source: Box::new(e),
                })
            }
            (result, _) => result,
        }
    }

    async fn take_inner(
        &self,
        name: &str,
        timeout_ms: i64,
        mode: Mode<'_>,
        in_flight: &Mutex<Option<InFlight>>,
        registered: &Mutex<Vec<ObjectId>>,
        removed: &Mutex<Vec<WatchPoint>>,
    ) -> Result<Outcome> {
        validate_name(name)?;
        if !self.indexes_ensured() {
            self.ensure_indexes().await?;
        }
        let mut replaced = None;
        for _ in 0..MAX_ATTEMPTS {
            let now = self.now_ms().await?;
            let acquired = Acquired {
                lock_id: ObjectId::new(),
                time_acquired_ms: now,
                expire_ms: expiry(now, timeout_ms)?,
                replaced,
                fencing_token: None,
            };
            let mut lock = doc! {
                "_id": acquired.lock_id,
                "name": name,
                "expire": DateTime::from_millis(acquired.expire_ms),
                "inserted": DateTime::from_millis(now),
            };
            if let Some(Replaced {
                lock_id,
                how: LostReason::Forced,
                ..
            }) = replaced
            {
                lock.insert(FORCED_FROM, lock_id);
            }
            if let Some(holder) = &self.holder {
                let mut holder = holder.to_document();
                // Registered before the insert is sent: a waiter that reads
                // this document can watch it at once.
                if let Some(listener) = &self.listener {
                    listener.holding(acquired.lock_id);
                    registered
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(acquired.lock_id);
                    holder.insert(WAKE_UP, listener.endpoint());
                }
                lock.insert(HOLDER, holder);
            }
            let twin_id = ObjectId::new();
            let twin = doc! {
                "_id": twin_id,
                "name": name,
                "expire": DateTime::from_millis(now),
                "inserted": DateTime::from_millis(now),
            };
            let sent = InFlight {
                lock_id: acquired.lock_id,
                twin_id,
                lease_ends: Instant::now() + Duration::from_millis(timeout_ms as u64),
            };
            *in_flight.lock().unwrap_or_else(|p| p.into_inner()) = Some(sent);
            // With fencing, the highest token so far is read alongside the
            // insert: no extra round trip for it (see `fencing.rs`).
            let (inserted, highest) = if self.fencing.is_some() {
                let (inserted, highest) = tokio::join!(
                    async {
                        pause_points::pass(pause_points::LOCK_INSERT).await;
                        self.insert_with_twin(lock, twin).await
                    },
                    async {
                        pause_points::pass(pause_points::FENCING_READ).await;
                        self.highest_token(name).await
                    }
                );
                (inserted, highest.ok())
            } else {
                pause_points::pass(pause_points::LOCK_INSERT).await;
                (self.insert_with_twin(lock, twin).await, None)
            };
            // With fencing, the lock stays "in flight" until it has its
            // token: an acquire cut short while claiming withdraws it too.
            let keep_in_flight = inserted.as_ref().is_err_and(LockError::is_network)
                || (self.fencing.is_some() && matches!(inserted, Ok(Inserted::Proven)));
            if !keep_in_flight {
                *in_flight.lock().unwrap_or_else(|p| p.into_inner()) = None;
            }
            match inserted? {
                Inserted::Proven if self.fencing.is_none() => {
                    return Ok(Outcome::Acquired(acquired))
                }
                Inserted::Proven => {
                    let claimed = self.claim_token(name, &acquired, highest).await;
                    if !claimed.as_ref().is_err_and(LockError::is_network) {
                        *in_flight.lock().unwrap_or_else(|p| p.into_inner()) = None;
                    }
                    if matches!((&claimed, mode), (Ok(None), Mode::Force)) {
                        // Another forced acquire removed ours before it had its
                        // token: a forced acquire takes the lock whoever holds
                        // it, so it forces again (at most MAX_ATTEMPTS times).
                        replaced = None;
                        continue;
                    }
                    return match claimed {
                        // A token claimed after the lease ended may be above a
                        // taker's that did not see it: no token, no lock.
                        Ok(Some(_)) if Instant::now() >= sent.lease_ends => {
                            let _ = self.delete_exact(doc! { "_id": acquired.lock_id }).await;
                            Ok(Outcome::Held {
                                expires_in_ms: None,
                                holder: None,
                            })
                        }
                        Ok(Some(token)) => Ok(Outcome::Acquired(Acquired {
                            fencing_token: Some(token),
                            ..acquired
                        })),
                        // The lock was lost before it had a token: not acquired.
                        Ok(None) => Ok(Outcome::Held {
                            expires_in_ms: None,
                            holder: None,
                        }),
                        // No answer: the lock is withdrawn in the background (`take`).
                        Err(e) if e.is_network() => Err(e),
                        Err(e) => {
                            // No token, no lock: give the name back.
                            let _ = self.delete_exact(doc! { "_id": acquired.lock_id }).await;
                            Err(e)
                        }
                    };
                }
                Inserted::Taken => match self.look_at_holder(name, mode, removed).await? {
                    Holder::Live {
                        expires_in_ms,
                        holder,
                    } => {
                        return Ok(Outcome::Held {
                            expires_in_ms,
                            holder,
                        })
                    }
                    Holder::Gone(None) => {}
                    Holder::Gone(removed) => replaced = removed,
                },
                Inserted::Unproven => {
                    // Both went in. Either the collection was dropped and our
                    // insert re-created it without the index (the insert
                    // proves nothing), or our lock was removed between the
                    // two inserts (a forced acquire, a takeover of a short
                    // lease: an ordered insert is not atomic) and the twin
                    // went in after it. The index is looked for first: while
                    // our two documents with one name are there, no index on
                    // `name` can be built, so one found then did not refuse
                    // them, unless our lock was gone already. Then undo it.
                    let had_index = self.index_present().await?;
                    let removed = self
                        .coll
                        .delete_many(doc! { "_id": { "$in": [acquired.lock_id, twin_id] } })
                        .await
                        .map_err(|e| LockError::driver("delete", e))?
                        .deleted_count;
                    if had_index && removed < 2 {
                        // Our lock was removed before the twin went in: a race.
                        replaced = None;
                        continue;
                    }
                    self.forget_indexes();
                    if had_index {
                        return Err(LockError::Index {
                            message: format!(
                                "the unique index on `name` in {} did not refuse a duplicate \
                                 name (is it partial, or does it have a collation?)",
                                self.namespace
                            ),
                        });
                    }
                    self.ensure_indexes().await?;
                }
            }
        }
        // Others kept winning the races for this name: report it as taken.
        Ok(Outcome::Held {
            expires_in_ms: None,
            holder: None,
        })
    }

    /// Inserts the lock, then its twin, in one ordered `insert` command.
    async fn insert_with_twin(&self, lock: Document, twin: Document) -> Result<Inserted> {
        let lock_id = lock.get("_id").cloned().unwrap_or(Bson::Null);
        let reply = self.insert_ordered(self.coll.name(), [lock, twin]).await?;
        let outcome = classify_insert_reply(&reply);
        if outcome.is_err() && write_error_index(&reply) != Some(0) {
            // The lock may have gone in before the failure: take it back.
            let _ = self.delete_exact(doc! { "_id": lock_id }).await;
        }
        outcome
    }

    /// After a duplicate key: looks at the holder of `name`. Respecting it,
    /// removes it only if its lease has ended, or if it is one of `own` (ours,
    /// from an insert whose reply was lost); forcing, removes it anyway.
    async fn look_at_holder(
        &self,
        name: &str,
        mode: Mode<'_>,
        removed_by_us: &Mutex<Vec<WatchPoint>>,
    ) -> Result<Holder> {
        let Some(holder) = self.holder(name).await? else {
            return Ok(Holder::Gone(None)); // released between our insert and our look
        };
        let holder_id = holder.get("_id").cloned().unwrap_or(Bson::Null);
        let Bson::ObjectId(id) = holder_id else {
            // Not a document a lock wrote: respect it, whatever the mode.
            return Ok(Holder::Live {
                expires_in_ms: None,
                holder: None,
            });
        };
        let expire_ms = stored_time(&holder, "expire");
        let now = self.now_ms().await?;
        let (filter, how, ended_ms) = match (mode, expire_ms) {
            (Mode::Respect { own }, _) if own.contains(&id) => {
                (doc! { "_id": id }, LostReason::Deleted, now)
            }
            // Exactly that expired document: if someone else took over
            // first, theirs has a new `_id` and this deletes nothing.
            (_, Some(expire)) if expire < now => (
                doc! { "_id": id, "expire": holder.get("expire").cloned().unwrap_or(Bson::Null) },
                LostReason::Taken,
                expire,
            ),
            // Live, or no usable expiry: respect it, as 0.0.x does.
            (Mode::Respect { .. }, expire) => {
                return Ok(Holder::Live {
                    expires_in_ms: expire.map(|e| e - now),
                    holder: Some(WatchPoint::of(id, &holder)),
                })
            }
            (Mode::Force, _) => (doc! { "_id": id }, LostReason::Forced, now),
        };
        if how != LostReason::Deleted {
            // With fencing: a claim the removed holder may still send bounces.
            self.tombstone(name, id, expire_ms).await?;
        }
        let removed = self.delete_exact(filter).await? == 1;
        if removed && how == LostReason::Forced {
            let at = WatchPoint::of(id, &holder);
            removed_by_us
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(at);
        }
        // Our own lost insert is no one else's holding: nothing to report.
        let report = removed && how != LostReason::Deleted;
        Ok(Holder::Gone(report.then_some(Replaced {
            lock_id: id,
            how,
            ended_ms,
        })))
    }

    /// Deletes, in the background, the documents of an insert whose reply
    /// never came, as soon as the server answers again. It keeps trying until
    /// it deleted the lock, the lease ended (a document past its lease blocks
    /// no one) or [`WITHDRAW_FOR_AT_MOST`] passed; a slow server gets the
    /// whole time for each delete, since nobody waits on this one.
    fn withdraw_later(&self, insert: InFlight) {
        let shared = std::sync::Arc::clone(&self.shared);
        let coll = self.coll.clone();
        let until = insert.lease_ends.min(Instant::now() + WITHDRAW_FOR_AT_MOST);
        tokio::spawn(async move {
            let mut pause = WITHDRAW_FIRST_PAUSE;
            while !shared.is_closed() && Instant::now() < until {
                let delete =
                    coll.delete_many(doc! { "_id": { "$in": [insert.lock_id, insert.twin_id] } });
                let left = until.saturating_duration_since(Instant::now());
                if let Ok(Ok(done)) = tokio::time::timeout(left, delete).await {
                    if done.deleted_count > 0 {
                        // Where an insert of several documents is not atomic,
                        // the twin may go in right after the lock was deleted:
                        // one more pass takes it too.
                        tokio::time::sleep(WITHDRAW_FIRST_PAUSE).await;
                        let again = coll.delete_many(
                            doc! { "_id": { "$in": [insert.lock_id, insert.twin_id] } },
                        );
                        let _ = tokio::time::timeout(left, again).await;
                        return;
                    }
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(WITHDRAW_MAX_PAUSE);
            }
        });
    }
}

/// The `index` of the first write error in an `insert` reply, if any.
fn write_error_index(reply: &Document) -> Option<i64> {
    first_write_error(reply).map(|(index, _)| index)
}

/// Reads the reply of the lock-plus-twin `insert` command.
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
}
