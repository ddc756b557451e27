//! The unique index on `name`: what makes an insert exclusive.
//!
//! Ensured once per collection per client (created like the 0.0.x mongoose
//! model creates it, so either side's creation is a no-op for the other), and
//! proven again by every acquire: see `acquire.rs`, where the lock's twin
//! bounces off the index in the same round trip.

use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, Bson, Document};
use mongodb::options::IndexOptions;
use mongodb::IndexModel;

use super::Locks;
use crate::error::{LockError, Result, NAMESPACE_NOT_FOUND};

const INDEX_NAME: &str = "name_1";
/// How often an acquire rebuilds the index before giving up: racing
/// contenders may briefly leave duplicate names that stop the build.
const INDEX_BUILD_ATTEMPTS: usize = 10;
/// The name of the sentinel document 1.0.0 kept in the collection (without
/// `expire`). Removed on first use: the collection holds locks only.
pub const LEGACY_SENTINEL_NAME: &str = "mongoose-distributed-lock:index-probe";

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

impl Locks {
    /// Whether the unique index on `name` is in place right now.
    pub(super) async fn index_present(&self) -> Result<bool> {
        let listed = self
            .db()
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

    /// Makes sure the unique index on `name` exists, and removes the sentinel
    /// document a 1.0.0 process may have left.
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
        // 1.0.0's sentinel has no `expire`; no lock document lacks one.
        self.coll
            .delete_many(doc! { "name": LEGACY_SENTINEL_NAME, "expire": { "$exists": false } })
            .await
            .map_err(|e| LockError::driver("delete", e))?;
        self.shared.set_index_ensured(&self.namespace, true);
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
    }
}
