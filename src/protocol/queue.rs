//! Fair waiting (`fair: true`): waiters are served in arrival order across
//! processes.
//!
//! A waiter registers in a queue of its own (`<collection>_queue`, documents
//! `{ name, ticket, expire }`, unique on `{ name, ticket }`): its ticket is
//! `highest + 1`, claimed by an insert into that unique key, so arrival order
//! is a total order on every server (like the lock itself, no conditional
//! update decides anything). Only the waiter at the head of the queue (the
//! lowest ticket whose registration is live) tries to take the lock; it
//! leaves the queue once it holds it. A waiter keeps its registration alive
//! while it waits; one that dies leaves the queue when its registration
//! expires. Fairness is among fair waiters: a plain `acquire()` still takes a
//! free lock at once, as in 0.0.1. Mutual exclusion never depends on the
//! queue: the lock insert decides ownership as always.

use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, Bson, DateTime, Document};

use super::{expiry, validate_name, Locks, WatchPoint, WAKE_UP};
use crate::error::{LockError, Result, DUPLICATE_KEY};

/// How often a registration is retried after bouncing off a newer one.
const TICKET_ATTEMPTS: usize = 16;

/// The queue collection of a lock collection.
pub fn queue_collection_name(lock_collection: &str) -> String {
    format!("{lock_collection}_queue")
}

/// Where a waiter stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// At the head: it may try the lock.
    Head,
    /// Behind another live registration: the one just ahead of it, which a
    /// waiter watches (etcd's waiters watch their predecessor's key the same
    /// way), and when that registration runs out (ms, server clock).
    Behind {
        ahead: WatchPoint,
        expires_in_ms: i64,
    },
}

/// A waiter's place in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    pub id: ObjectId,
    pub number: i64,
}

impl Locks {
    fn queue(&self) -> Result<&mongodb::Collection<Document>> {
        self.queue.as_ref().ok_or_else(|| LockError::Internal {
            message: "fair waiting is not on for this store".to_string(),
        })
    }

    /// Registers a waiter for `name`, its registration live for `lease_ms`.
    pub async fn enqueue(&self, name: &str, lease_ms: i64) -> Result<Ticket> {
        validate_name(name)?;
        self.bounded("enqueue", async {
            if !self.indexes_ensured() {
                self.ensure_indexes().await?;
            }
            let queue = self.queue()?;
            let mut number = self.highest_ticket(name).await? + 1;
            for _ in 0..TICKET_ATTEMPTS {
                let now = self.now_ms().await?;
                let id = ObjectId::new();
                let mut entry = doc! {
                    "_id": id,
                    "name": name,
                    "ticket": number,
                    "expire": DateTime::from_millis(expiry(now, lease_ms)?),
                };
                // The waiter behind this one watches this registration.
                if let (Some(listener), Some(holder)) = (&self.listener, &self.holder) {
                    listener.holding(id);
                    entry.insert("host", &holder.host);
                    entry.insert(WAKE_UP, listener.endpoint());
                }
                let inserted = queue.insert_one(entry).await;
                if inserted.is_err() {
                    self.ended(id);
                }
                match inserted {
                    Ok(_) => return Ok(Ticket { id, number }),
                    Err(e) => {
                        let err = LockError::driver("insert", e);
                        if err.server_code() != Some(DUPLICATE_KEY) {
                            return Err(err);
                        }
                        number = self.highest_ticket(name).await?.max(number) + 1;
                    }
                }
            }
            Err(LockError::Driver {
                operation: "enqueue",
                message: format!(
                    "could not join the queue for {name:?}: others kept arriving first"
                ),
            })
        })
        .await
    }

    async fn highest_ticket(&self, name: &str) -> Result<i64> {
        let top = self
            .queue()?
            .find_one(doc! { "name": name })
            .sort(doc! { "ticket": -1 })
            .projection(doc! { "ticket": 1 })
            .await
            .map_err(|e| LockError::driver("find", e))?;
        Ok(top
            .and_then(|d| match d.get("ticket") {
                Some(Bson::Int64(n)) => Some(*n),
                Some(Bson::Int32(n)) => Some(i64::from(*n)),
                _ => None,
            })
            .unwrap_or(0))
    }

    /// Where `ticket` stands in the queue of `name`: at the head when no
    /// live registration has a lower ticket. Expired registrations ahead of
    /// it (waiters that died) are removed on the way, by exact `_id`.
    pub async fn place(&self, name: &str, ticket: Ticket) -> Result<Place> {
        self.bounded("queue", async {
            let queue = self.queue()?;
            let ahead: Vec<Document> = queue
                .find(doc! { "name": name, "ticket": { "$lt": ticket.number } })
                .projection(doc! { "_id": 1, "expire": 1, "ticket": 1, "host": 1, WAKE_UP: 1 })
                .await
                .map_err(|e| LockError::driver("find", e))?
                .try_collect()
                .await
                .map_err(|e| LockError::driver("find", e))?;
            if ahead.is_empty() {
                return Ok(Place::Head);
            }
            let now = self.now_ms().await?;
            // The live registration just ahead: the highest ticket below ours.
            let mut just_ahead: Option<(i64, Place)> = None;
            for entry in &ahead {
                match super::stored_time(entry, "expire") {
                    Some(expire) if expire > now => {
                        let number = entry
                            .get("ticket")
                            .and_then(super::whole_number)
                            .unwrap_or(0);
                        if just_ahead.as_ref().is_none_or(|(n, _)| number > *n) {
                            let id = match entry.get("_id") {
                                Some(Bson::ObjectId(id)) => *id,
                                _ => ObjectId::from_bytes([0; 12]),
                            };
                            let place = Place::Behind {
                                ahead: WatchPoint::of(id, entry),
                                expires_in_ms: expire - now,
                            };
                            just_ahead = Some((number, place));
                        }
                    }
                    _ => {
                        let filter = doc! {
                            "_id": entry.get("_id").cloned().unwrap_or(Bson::Null),
                            "expire": entry.get("expire").cloned().unwrap_or(Bson::Null),
                        };
                        let _ = queue.delete_one(filter).await;
                    }
                }
            }
            Ok(just_ahead.map_or(Place::Head, |(_, place)| place))
        })
        .await
    }

    /// Keeps `ticket`'s registration alive for `lease_ms` more.
    pub async fn refresh(&self, ticket: Ticket, lease_ms: i64) -> Result<bool> {
        self.bounded("queue", async {
            let now = self.now_ms().await?;
            let update =
                doc! { "$set": { "expire": DateTime::from_millis(expiry(now, lease_ms)?) } };
            let matched = self
                .queue()?
                .update_one(doc! { "_id": ticket.id }, update)
                .await
                .map_err(|e| LockError::driver("update", e))?
                .matched_count;
            // Run out: the waiter joins again, so this ticket is over.
            if matched == 0 {
                self.ended(ticket.id);
            }
            Ok(matched == 1)
        })
        .await
    }

    /// Leaves the queue (got the lock, gave up, or was aborted).
    /// The waiter behind it is told once the delete is acknowledged.
    pub async fn leave(&self, ticket: Ticket) -> Result<()> {
        let left = self
            .bounded("queue", async {
                self.queue()?
                    .delete_one(doc! { "_id": ticket.id })
                    .await
                    .map(|_| ())
                    .map_err(|e| LockError::driver("delete", e))
            })
            .await;
        // Even unanswered: the waiter behind checks its place, no more.
        self.ended(ticket.id);
        left
    }

    /// The unique index on `{ name, ticket }` of the queue collection.
    pub(super) async fn ensure_queue_index(&self) -> Result<()> {
        let Some(queue) = &self.queue else {
            return Ok(());
        };
        super::index::ensure_unique(
            queue,
            doc! { "name": 1, "ticket": 1 },
            "name_1_ticket_1",
            "queue",
        )
        .await
    }
}
