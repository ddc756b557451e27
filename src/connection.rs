//! One pooled `Client` per set of connection settings, shared by every lock
//! in the process, with its server clock and command counters. What the
//! settings are, and the lock's policy over them, is `client_options`; what
//! the locks do with the client is `protocol`, which this module knows
//! nothing of.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use mongodb::event::cmap::CmapEvent;
use mongodb::event::command::CommandEvent;
use mongodb::event::EventHandler;
use mongodb::{Client, Database};
use tokio::sync::OnceCell;

use crate::client_options::{self, ClientSpec};
use crate::clock::ServerClock;
use crate::error::{LockError, Result};

/// Env var that turns on command monitoring (round-trip counting) for clients
/// created afterwards. Off by default: monitoring copies every command.
pub const MONITOR_ENV: &str = "MONGOOSE_DISTRIBUTED_LOCK_MONITOR";

/// A client and what belongs with it.
pub struct Shared {
    pub client: Client,
    pub clock: Arc<ServerClock>,
    /// Longest time one lock operation may take (`socketTimeoutMS`).
    pub operation_timeout: Duration,
    default_db: Option<String>,
    /// Namespaces whose unique index this process has ensured.
    indexed: Mutex<HashSet<String>>,
    /// Set once the client is closed: operations still running end with
    /// `ERR_CONNECTION_CLOSED`, and background work stops.
    closed: AtomicBool,
    /// Wakes the operations under way when the client closes.
    closed_notify: tokio::sync::Notify,
}

impl Shared {
    /// The database `db_name`, or else the connection string's, or else `test`
    /// (as the Node driver does).
    pub fn database(&self, db_name: Option<&str>) -> Database {
        let db = db_name
            .filter(|d| !d.is_empty())
            .or(self.default_db.as_deref())
            .unwrap_or("test");
        self.client.database(db)
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Resolves once the client is closed (at once if it is).
    pub async fn closing(&self) {
        loop {
            let woken = self.closed_notify.notified();
            if self.is_closed() {
                return;
            }
            woken.await;
        }
    }

    /// Whether the indexes described by `key` were ensured on this client.
    pub fn indexes_ensured(&self, key: &str) -> bool {
        self.indexed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(key)
    }

    /// Records that the indexes of `key` are there, or must be checked again.
    pub fn set_indexes_ensured(&self, key: &str, ensured: bool) {
        let mut set = self.indexed.lock().unwrap_or_else(|p| p.into_inner());
        if ensured {
            set.insert(key.to_string());
        } else {
            // Every variant for the namespace (with and without TTL).
            let namespace = key.split('#').next().unwrap_or(key).to_string();
            set.retain(|k| k.split('#').next() != Some(namespace.as_str()));
        }
    }
}

type Slot = Arc<OnceCell<Arc<Shared>>>;

static CLIENTS: LazyLock<Mutex<HashMap<String, Slot>>> = LazyLock::new(Default::default);
static COMMANDS: LazyLock<Mutex<BTreeMap<String, u64>>> = LazyLock::new(Default::default);
/// The shared client for `spec`, created on first use.
///
/// Must run inside the Tokio runtime: the driver starts its monitors there.
pub async fn shared(spec: &ClientSpec) -> Result<Arc<Shared>> {
    let slot = {
        let mut clients = CLIENTS.lock().unwrap_or_else(|p| p.into_inner());
        clients.entry(spec.key()).or_default().clone()
    };
    // A failed creation leaves the cell empty, so the next call tries again.
    slot.get_or_try_init(|| connect(spec)).await.cloned()
}

async fn connect(spec: &ClientSpec) -> Result<Arc<Shared>> {
    let built = client_options::build(spec).await?;
    let mut options = built.options;

    let clock = Arc::new(ServerClock::new());
    let for_events = Arc::clone(&clock);
    options.cmap_event_handler = Some(EventHandler::callback(move |ev: CmapEvent| {
        // A cleared pool means reconnecting, possibly to another server.
        if matches!(ev, CmapEvent::PoolCleared(_)) {
            for_events.mark_stale();
        }
    }));
    if std::env::var_os(MONITOR_ENV).is_some_and(|v| !v.is_empty() && v != "0") {
        options.command_event_handler = Some(EventHandler::callback(|ev: CommandEvent| {
            if let CommandEvent::Started(started) = ev {
                let mut counts = COMMANDS.lock().unwrap_or_else(|p| p.into_inner());
                *counts.entry(started.command_name).or_insert(0) += 1;
            }
        }));
    }

    let default_db = options.default_database.clone();
    // The driver reads TLS files here, once: in-memory PEMs may go right after.
    let client = Client::with_options(options);
    drop(built.pem_files);
    let client = client.map_err(|e| match LockError::driver("connect", e) {
        LockError::InvalidUri { message } => LockError::InvalidUri {
            message: spec.redact(&message),
        },
        LockError::TlsConfig { message } => LockError::TlsConfig {
            message: spec.redact(&message),
        },
        other => other,
    })?;
    Ok(Arc::new(Shared {
        client,
        clock,
        operation_timeout: built.operation_timeout,
        default_db,
        indexed: Mutex::new(HashSet::new()),
        closed: AtomicBool::new(false),
        closed_notify: tokio::sync::Notify::new(),
    }))
}

/// Closes the client of `spec`, if one is open: operations still running on
/// it fail with `ERR_CONNECTION_CLOSED`. Locks used later connect again.
pub async fn close(spec: &ClientSpec) {
    let slot = CLIENTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&spec.key());
    if let Some(slot) = slot {
        shut_down(slot).await;
    }
}

/// Closes every client. Locks used later connect again on first use.
pub async fn close_all() {
    let slots: Vec<Slot> = {
        let mut clients = CLIENTS.lock().unwrap_or_else(|p| p.into_inner());
        clients.drain().map(|(_, slot)| slot).collect()
    };
    for slot in slots {
        shut_down(slot).await;
    }
}

/// Marks the client closed (its calls under way end at once) and shuts it
/// down in the background: a server that stopped answering must not hold up
/// the application's shutdown (the driver's own shutdown may wait on it).
async fn shut_down(slot: Slot) {
    if let Some(shared) = slot.get() {
        shared.closed.store(true, Ordering::Release);
        shared.closed_notify.notify_waiters();
        let client = shared.client.clone();
        tokio::spawn(async move { client.shutdown().immediate(true).await });
    }
}

/// How many clients are open (for tests of the connection's life).
pub fn open_clients() -> usize {
    CLIENTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .values()
        .filter(|slot| slot.initialized())
        .count()
}

/// Commands started per command name, counted while monitoring is on.
pub fn command_counts() -> BTreeMap<String, u64> {
    COMMANDS.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

pub fn reset_command_counts() {
    COMMANDS.lock().unwrap_or_else(|p| p.into_inner()).clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_closed_client_is_gone_and_a_new_one_can_open() {
        let spec = ClientSpec::from_uri("mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=1");
        let first = shared(&spec).await.unwrap();
        close(&spec).await;
        assert!(first.is_closed());
        let second = shared(&spec).await.unwrap();
        assert!(!second.is_closed());
        assert!(!Arc::ptr_eq(&first, &second));
        close(&spec).await;
    }
}
