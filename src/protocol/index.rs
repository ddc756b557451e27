//! The indexes of a lock collection.
//!
//! - The unique index on `name`, what makes an insert exclusive: ensured once
//!   per collection per client (created like the 0.0.x mongoose model creates
//!   it, so either side's creation is a no-op for the other), and proven again
//!   by every acquire (see `acquire.rs`: the lock's twin bounces off it in the
//!   same round trip). An index that would make the lock unsafe (a non-unique
//!   or partial `name_1`) fails with `ERR_INDEX` instead.
//! - A TTL index on `expire` (`expireAfterSeconds: 0`), so that documents of
//!   holders that died disappear by themselves, where the server has TTL
//!   indexes; a server that refuses it (FerretDB 1.x) is noted once and the
//!   lock carries on. Takeover of an expired lock never waits for it.

use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, Bson, Document};
use mongodb::options::IndexOptions;
use mongodb::IndexModel;

use super::Locks;
use crate::error::{LockError, Result, NAMESPACE_NOT_FOUND};

const INDEX_NAME: &str = "name_1";
const TTL_INDEX_NAME: &str = "expire_1";
/// Server codes of "an index with this name or key exists with other options".
const INDEX_CONFLICT_CODES: &[i32] = &[85, 86];
/// How often an acquire rebuilds the index before giving up: racing
/// contenders may briefly leave duplicate names that stop the build.
const INDEX_BUILD_ATTEMPTS: usize = 10;
/// The name of the sentinel document 1.0.0 kept in the collection (without
/// `expire`). Removed on first use: the collection holds locks only.
pub const LEGACY_SENTINEL_NAME: &str = "mongoose-distributed-lock:index-probe";

/// What ensuring the indexes of a collection found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexReport {
    /// `namespace` as `db.collection`.
    pub namespace: String,
    /// The TTL index on `expire` is in place.
    pub ttl: bool,
    /// Why there is no TTL index, when there is none.
    pub ttl_note: Option<String>,
}

/// Whether an index description is a unique, non-partial index on exactly
/// `{ name: 1 }`: one that refuses every duplicate name.
pub fn is_unique_name_index(index: &Document) -> bool {
    let unique = matches!(index.get("unique"), Some(Bson::Boolean(true)))
        && index.get("partialFilterExpression").is_none();
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

/// Creates a unique index `name` on `keys` of `coll` (a no-op when it is
/// there): the keys of the fencing and queue collections. `what` names the
/// collection in the error.
pub(super) async fn ensure_unique(
    coll: &mongodb::Collection<Document>,
    keys: Document,
    name: &str,
    what: &str,
) -> Result<()> {
    let model = IndexModel::builder()
        .keys(keys)
        .options(
            IndexOptions::builder()
                .name(name.to_string())
                .unique(true)
                .build(),
        )
        .build();
    coll.create_index(model)
        .await
        .map(|_| ())
        .map_err(|e| LockError::Index {
            message: format!(
                "cannot create the unique index {name} of the {what} collection: {}",
                LockError::driver("createIndexes", e)
            ),
        })
}

/// Whether an index description is a TTL index on exactly `{ expire: 1 }`.
fn is_ttl_index(index: &Document) -> bool {
    index.get("expireAfterSeconds").is_some()
        && index
            .get_document("key")
            .is_ok_and(|key| key.len() == 1 && key.contains_key("expire"))
}

impl Locks {
    /// What `indexes_ensured` remembers: the namespace and the TTL choice.
    fn indexes_key(&self) -> String {
        format!(
            "{}#ttl={}#fencing={}#fair={}",
            self.namespace,
            self.ttl,
            self.fencing.is_some(),
            self.queue.is_some()
        )
    }

    pub(super) fn indexes_ensured(&self) -> bool {
        self.shared.indexes_ensured(&self.indexes_key())
    }

    /// The collection may have been dropped: check its indexes again.
    pub(super) fn forget_indexes(&self) {
        self.shared.set_indexes_ensured(&self.indexes_key(), false);
    }

    async fn list_indexes(&self) -> Result<Vec<Document>> {
        let listed = self
            .db()
            .run_cursor_command(doc! { "listIndexes": self.coll.name() })
            .await;
        let cursor = match listed {
            Ok(cursor) => cursor,
            Err(e) => {
                let err = LockError::driver("listIndexes", e);
                return match err.server_code() {
                    Some(NAMESPACE_NOT_FOUND) => Ok(Vec::new()),
                    _ => Err(err),
                };
            }
        };
        cursor
            .try_collect()
            .await
            .map_err(|e| LockError::driver("listIndexes", e))
    }

    /// Whether the unique index on `name` is in place right now.
    pub(super) async fn index_present(&self) -> Result<bool> {
        Ok(self.list_indexes().await?.iter().any(is_unique_name_index))
    }

    /// Ensures the indexes (the unique one, and the TTL one unless `ttl` is
    /// off) and removes 1.0.0's sentinel; the outcome is remembered per
    /// client, so this runs once per collection.
    pub async fn ensure_indexes(&self) -> Result<IndexReport> {
        self.ensure_index().await?;
        self.ensure_fencing_index().await?;
        self.ensure_queue_index().await?;
        let mut report = IndexReport {
            namespace: self.namespace.clone(),
            ttl: false,
            ttl_note: None,
        };
        if self.ttl {
            match self.ensure_ttl_index().await {
                Ok(()) => report.ttl = true,
                Err(e) => {
                    let note = format!(
                        "no TTL index on {}.expire ({e}); documents of holders that died stay until taken over",
                        self.namespace
                    );
                    self.note_once(note.clone());
                    report.ttl_note = Some(note);
                }
            }
        } else {
            report.ttl_note = Some("the ttl option is off".to_string());
        }
        self.shared.set_indexes_ensured(&self.indexes_key(), true);
        Ok(report)
    }

    /// The TTL index on `expire`; an error when the server refuses it.
    async fn ensure_ttl_index(&self) -> Result<()> {
        if self.list_indexes().await?.iter().any(is_ttl_index) {
            return Ok(());
        }
        let model = IndexModel::builder()
            .keys(doc! { "expire": 1 })
            .options(
                IndexOptions::builder()
                    .name(TTL_INDEX_NAME.to_string())
                    .expire_after(std::time::Duration::ZERO)
                    .build(),
            )
            .build();
        self.coll
            .create_index(model)
            .await
            .map(|_| ())
            .map_err(|e| LockError::driver("createIndexes", e))
    }

    /// Makes sure the unique index on `name` exists, and removes the sentinel
    /// document a 1.0.0 process may have left.
    async fn ensure_index(&self) -> Result<()> {
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
                // Some servers answer a same-named index of other options with
                // success and change nothing: look again before trusting it.
                Ok(_) if !self.index_present().await? => {
                    return Err(LockError::Index {
                        message: format!(
                            "an index named {INDEX_NAME} exists in {} and does not refuse every \
                             duplicate name; the lock will not run without a unique index on \
                             `name`: drop that index",
                            self.namespace
                        ),
                    });
                }
                Ok(_) => {
                    last_error = None;
                    break;
                }
                // Duplicate names stop the build; contenders that raced into
                // a dropped collection are withdrawing theirs: wait a little.
                Err(e) => {
                    let err = LockError::driver("createIndexes", e);
                    if err
                        .server_code()
                        .is_some_and(|c| INDEX_CONFLICT_CODES.contains(&c))
                    {
                        return Err(LockError::Index {
                            message: format!(
                                "an index named {INDEX_NAME} (or on the same key) exists in {} \
                                 and does not refuse every duplicate name; the lock will not \
                                 run without a unique index on `name`: drop that index \
                                 ({err})",
                                self.namespace
                            ),
                        });
                    }
                    last_error = Some(err);
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
        // 1.0.0's sentinel has no `expire`; no lock document lacks one.
        self.coll
            .delete_many(doc! { "name": LEGACY_SENTINEL_NAME, "expire": { "$exists": false } })
            .await
            .map_err(|e| LockError::driver("delete", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(!is_unique_name_index(
            &doc! { "key": { "name": 1 }, "unique": true, "partialFilterExpression": { "x": 1 } }
        ));
    }

    #[test]
    fn ttl_indexes_are_recognised() {
        assert!(is_ttl_index(
            &doc! { "key": { "expire": 1 }, "expireAfterSeconds": 0 }
        ));
        assert!(!is_ttl_index(&doc! { "key": { "expire": 1 } }));
        assert!(!is_ttl_index(
            &doc! { "key": { "expire": 1, "name": 1 }, "expireAfterSeconds": 0 }
        ));
    }
}
