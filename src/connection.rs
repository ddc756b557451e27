//! One pooled `Client` per connection string, shared by every lock in the
//! process, with its server clock and command counters.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use mongodb::event::cmap::CmapEvent;
use mongodb::event::command::CommandEvent;
use mongodb::event::EventHandler;
use mongodb::options::{ClientOptions, Credential};
use mongodb::{Client, Collection};
use tokio::sync::OnceCell;

use crate::clock::ServerClock;
use crate::error::{LockError, Result};

/// Env var that turns on command monitoring (round-trip counting) for clients
/// created afterwards. Off by default: monitoring copies every command.
pub const MONITOR_ENV: &str = "MONGOOSE_DISTRIBUTED_LOCK_MONITOR";
/// Bound on one lock operation when the connection string sets no
/// `socketTimeoutMS`: the Rust driver has no socket timeout, and a server that
/// accepts a connection but never answers must not hang a caller forever.
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(60);
/// The collection of the 0.0.x package's mongoose model `DistributedLock`.
pub const DEFAULT_COLLECTION: &str = "distributedlocks";

/// Where the locks live: a server, credentials given apart from the string
/// (as mongoose allows), a database and a collection.
#[derive(Clone, Default)]
pub struct Target {
    pub uri: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub auth_source: Option<String>,
    pub db_name: Option<String>,
    pub collection: Option<String>,
}

impl std::fmt::Debug for Target {
    // Never print credentials, not even in a debug dump.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("db_name", &self.db_name)
            .field("collection", &self.collection)
            .finish_non_exhaustive()
    }
}

impl Target {
    /// Identity of the client: the connection string plus separate credentials.
    fn client_key(&self) -> String {
        let parts = [
            self.uri.as_str(),
            self.username.as_deref().unwrap_or(""),
            self.password.as_deref().unwrap_or(""),
            self.auth_source.as_deref().unwrap_or(""),
        ];
        parts.join("\u{0}")
    }
}

/// A client and what belongs with it.
pub struct Shared {
    pub client: Client,
    pub clock: Arc<ServerClock>,
    /// Longest time one acquire or release may take, from `socketTimeoutMS`.
    pub operation_timeout: Duration,
    default_db: Option<String>,
    /// Namespaces whose unique index this process has ensured.
    indexed: Mutex<HashSet<String>>,
}

impl Shared {
    pub fn collection<T: Send + Sync>(&self, target: &Target) -> Collection<T> {
        let db = target
            .db_name
            .as_deref()
            .filter(|d| !d.is_empty())
            .or(self.default_db.as_deref())
            .unwrap_or("test");
        let coll = target
            .collection
            .as_deref()
            .filter(|c| !c.is_empty())
            .unwrap_or(DEFAULT_COLLECTION);
        self.client.database(db).collection(coll)
    }

    pub fn index_ensured(&self, namespace: &str) -> bool {
        self.indexed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(namespace)
    }

    pub fn set_index_ensured(&self, namespace: &str, ensured: bool) {
        let mut set = self.indexed.lock().unwrap_or_else(|p| p.into_inner());
        if ensured {
            set.insert(namespace.to_string());
        } else {
            set.remove(namespace);
        }
    }
}

type Slot = Arc<OnceCell<Arc<Shared>>>;

static CLIENTS: LazyLock<Mutex<HashMap<String, Slot>>> = LazyLock::new(Default::default);
static COMMANDS: LazyLock<Mutex<BTreeMap<String, u64>>> = LazyLock::new(Default::default);

/// The shared client for `target`, created on first use.
///
/// Must run inside the Tokio runtime: the driver starts its monitors there.
pub async fn shared(target: &Target) -> Result<Arc<Shared>> {
    let slot = {
        let mut clients = CLIENTS.lock().unwrap_or_else(|p| p.into_inner());
        clients.entry(target.client_key()).or_default().clone()
    };
    // A failed creation leaves the cell empty, so the next call tries again.
    slot.get_or_try_init(|| connect(target)).await.cloned()
}

async fn connect(target: &Target) -> Result<Arc<Shared>> {
    let mut options =
        parse_options(&target.uri)
            .await
            .map_err(|message| LockError::InvalidUri {
                message: redact(&message, target),
            })?;
    if let Some(username) = &target.username {
        if options.credential.is_none() {
            options.credential = Some(
                Credential::builder()
                    .username(username.clone())
                    .password(target.password.clone())
                    .source(target.auth_source.clone())
                    .build(),
            );
        }
    }
    if options.app_name.is_none() {
        options.app_name = Some("mongoose-distributed-lock".to_string());
    }

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
    // The driver accepts socketTimeoutMS but does not apply it; we do, per operation.
    let operation_timeout = socket_timeout(&target.uri).unwrap_or(DEFAULT_OPERATION_TIMEOUT);
    let client = Client::with_options(options).map_err(|e| LockError::InvalidUri {
        message: redact(&e.kind.to_string(), target),
    })?;
    Ok(Arc::new(Shared {
        client,
        clock,
        operation_timeout,
        default_db,
        indexed: Mutex::new(HashSet::new()),
    }))
}

/// Removes the password from a driver message, in case it quotes the string.
fn redact(message: &str, target: &Target) -> String {
    let mut out = message.to_string();
    if let Some(p) = target.password.as_deref().filter(|p| !p.is_empty()) {
        out = out.replace(p, "****");
    }
    if let Some(p) = password_in_uri(&target.uri).filter(|p| !p.is_empty()) {
        out = out.replace(p, "****");
    }
    out
}

/// Options the Node driver (so mongoose) accepts in a connection string and
/// the Rust driver refuses. `socketTimeoutMS` is applied by us, per operation.
const NODE_ONLY_OPTIONS: &[&str] = &["socketTimeoutMS"];
/// How many options the Rust driver may refuse before the string is refused.
const MAX_IGNORED_OPTIONS: usize = 8;

/// Parses a connection string the application's mongoose accepted. Options
/// the Rust driver does not know are ignored, as the Node driver ignores
/// unknown options (with a warning), instead of failing every lock call.
async fn parse_options(uri: &str) -> std::result::Result<ClientOptions, String> {
    let mut uri = uri.to_string();
    for option in NODE_ONLY_OPTIONS {
        uri = without_option(&uri, option);
    }
    for _ in 0..MAX_IGNORED_OPTIONS {
        match ClientOptions::parse(&uri).await {
            Ok(options) => return Ok(options),
            Err(e) => {
                let message = e.kind.to_string();
                match refused_option(&message) {
                    Some(option) if uri.to_ascii_lowercase().contains(&option) => {
                        uri = without_option(&uri, &option)
                    }
                    _ => return Err(message),
                }
            }
        }
    }
    Err("too many options the driver does not support".to_string())
}

/// The option named by the Rust driver's "<option> is an invalid option".
fn refused_option(message: &str) -> Option<String> {
    let start = message.find(": ").map_or(0, |i| i + 2);
    let option = message[start..].split(" is an invalid option").next()?;
    (option.len() < message.len() - start && !option.contains(char::is_whitespace))
        .then(|| option.to_ascii_lowercase())
}

/// The connection string without option `key` (compared case-insensitively).
fn without_option(uri: &str, key: &str) -> String {
    let Some((base, query)) = uri.split_once('?') else {
        return uri.to_string();
    };
    let kept: Vec<&str> = query
        .split(['&', ';'])
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(k, _)| k);
            !name.eq_ignore_ascii_case(key)
        })
        .collect();
    if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

/// `socketTimeoutMS` from a connection string's options; 0 means none.
fn socket_timeout(uri: &str) -> Option<Duration> {
    let query = uri.split_once('?')?.1;
    query
        .split(['&', ';'])
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| key.eq_ignore_ascii_case("socketTimeoutMS"))
        .and_then(|(_, value)| value.parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
}

/// The password part of `scheme://user:password@host`, if any.
fn password_in_uri(uri: &str) -> Option<&str> {
    let rest = uri.split_once("://")?.1;
    let userinfo = rest.split_once('@')?.0;
    if userinfo.contains('/') {
        return None; // the '@' is in the path or options, not in userinfo
    }
    Some(userinfo.split_once(':')?.1)
}

/// Closes every client. Locks created later connect again on first use.
pub async fn close_all() {
    let slots: Vec<Slot> = {
        let mut clients = CLIENTS.lock().unwrap_or_else(|p| p.into_inner());
        clients.drain().map(|(_, slot)| slot).collect()
    };
    for slot in slots {
        if let Some(shared) = slot.get() {
            shared.client.clone().shutdown().immediate(true).await;
        }
    }
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

    #[test]
    fn password_is_found_and_redacted() {
        let target = Target {
            uri: "mongodb://alice:s3cret@db.example:27017/app".into(),
            ..Default::default()
        };
        assert_eq!(password_in_uri(&target.uri), Some("s3cret"));
        assert_eq!(redact("bad s3cret here", &target), "bad **** here");
        assert_eq!(password_in_uri("mongodb://host/db?x=a@b"), None);
    }

    #[test]
    fn socket_timeout_is_read_from_the_options() {
        let t = |uri: &str| socket_timeout(uri).map(|d| d.as_millis());
        assert_eq!(t("mongodb://h/db?socketTimeoutMS=1500"), Some(1500));
        assert_eq!(t("mongodb://h/?a=1&sockettimeoutms=20"), Some(20));
        assert_eq!(t("mongodb://h/?socketTimeoutMS=0"), None);
        assert_eq!(t("mongodb://h/?socketTimeoutMS=x"), None);
        assert_eq!(t("mongodb://h/db"), None);
    }

    #[test]
    fn options_are_removed_by_name() {
        assert_eq!(
            without_option("mongodb://h/db?socketTimeoutMS=5&w=1", "sockettimeoutms"),
            "mongodb://h/db?w=1"
        );
        assert_eq!(
            without_option("mongodb://h/db?socketTimeoutMS=5", "socketTimeoutMS"),
            "mongodb://h/db"
        );
        assert_eq!(without_option("mongodb://h/db", "x"), "mongodb://h/db");
    }

    #[test]
    fn refused_options_are_recognised() {
        let msg = "An invalid argument was provided: bogusOption is an invalid option";
        assert_eq!(refused_option(msg).as_deref(), Some("bogusoption"));
        assert_eq!(refused_option("connection string contains no scheme"), None);
    }

    #[tokio::test]
    async fn node_only_and_unknown_options_do_not_break_parsing() {
        let options =
            parse_options("mongodb://127.0.0.1:27017/app?socketTimeoutMS=100&bogusOption=1&w=1")
                .await
                .unwrap();
        assert_eq!(options.default_database.as_deref(), Some("app"));
        assert!(parse_options("localhost:27017").await.is_err());
    }

    #[test]
    fn separate_credentials_make_a_separate_client() {
        let a = Target {
            uri: "mongodb://h/".into(),
            ..Default::default()
        };
        let b = Target {
            username: Some("u".into()),
            ..a.clone()
        };
        assert_ne!(a.client_key(), b.client_key());
        assert!(!format!("{b:?}").contains("mongodb://"));
    }
}
