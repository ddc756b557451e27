//! The wake-up listener: how a waiter in another process learns, within a
//! round trip, that the holding it waits on has ended.
//!
//! One listener per process and collection (per shared client). It serves a
//! TCP endpoint on the loopback interface, written into every lock document
//! and queue ticket this process inserts (`holder.wakeUp`, `"<port>:<key>"`),
//! or on the address the application gives (`"<port>:<key>@<address>"`, for
//! waiters on other hosts).
//! A waiter that found the name taken asks the holder's listener to *watch*
//! that document's `_id`; the holder's listener answers `GONE` when the
//! holding ends here (released, lost, ticket left), or at once if it is not
//! held here any more. The holder registers a document's `_id` *before* the
//! insert is sent and ends it only *after* the delete is acknowledged, so a
//! release between a waiter's failed try and its watch is never missed: the
//! watch then comes back `GONE` at once.
//!
//! Nothing here decides ownership: a wake-up only makes a waiter try now. A
//! lost one costs the waiter its fallback (the holder's expiry or its poll
//! interval), a spurious one costs one try. Waiters on other hosts, and
//! holders that never signal (0.0.x, or 1.1 and older: no `wakeUp` field),
//! are polled as before. FerretDB's tailable cursors re-run their query
//! every 10 ms while they wait, so a watch on the server itself would cost a
//! server a core per few dozen idle waiters; this costs it nothing.
//!
//! Wire format, one line each way, ASCII:
//! waiter → holder `HELLO <key>` once, then `WATCH <24 hex>` per `_id`;
//! holder → waiter `GONE <24 hex>`, or `BAD` (another process's port) and close.
//! A process that removed another's holding (a forced acquire, an operator's
//! `release --force`) sends that holder `ENDED <24 hex>` instead of `WATCH`:
//! the holder's listener then tells that holding's watchers, as if it had
//! ended there (at worst, one try each for nothing).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use mongodb::bson::oid::ObjectId;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use crate::connection::Shared;
use crate::notes;

/// A line longer than this ends the connection (none of ours comes close).
const MAX_LINE: u64 = 64;
/// How long a new connection may take to say who it is looking for.
const HELLO_WITHIN: Duration = Duration::from_secs(5);
/// How long connecting to a holder's listener may take.
const CONNECT_WITHIN: Duration = Duration::from_secs(1);
/// Replies queued for one waiter's connection at most; a waiter that does
/// not read them (or floods watches) loses its connection, not our memory.
const MAX_QUEUED_REPLIES: usize = 1024;
/// A failed `accept` (too many open files, say) is retried after this.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);
/// Waiters' connections served at once; more are closed at once (one per
/// waiting process is the most a listener needs).
const MAX_CONNECTIONS: usize = 4096;

/// How a watch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woken {
    /// The holding ended (or was not held there any more): try now.
    Gone,
    /// The connection to the holder's listener broke: no wake-up will come.
    Broken,
    /// The holder's listener cannot be reached from here (another host, no
    /// such listener, another process on its port).
    Unreachable,
    /// This process's client closed.
    Closed,
}

impl Woken {
    pub fn as_str(self) -> &'static str {
        match self {
            Woken::Gone => "gone",
            Woken::Broken => "broken",
            Woken::Unreachable => "unreachable",
            Woken::Closed => "closed",
        }
    }
}

/// Who is told when a holding of this process ends.
enum Watcher {
    /// A connection from a waiter's listener, by connection number.
    Remote(u64, mpsc::Sender<String>),
    /// A waiter in this process watching its own listener's holding.
    Local(oneshot::Sender<Woken>),
}

/// One wake-up listener.
pub struct Listener {
    /// The host name written beside the endpoint (`holder.host`).
    host: String,
    /// `"<port>:<key>"`.
    endpoint: String,
    key: String,
    shared: Arc<Shared>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Documents (locks, queue tickets) held by this process, and who to
    /// tell when each ends.
    held: HashMap<ObjectId, Vec<Watcher>>,
    /// Connections to other listeners, by endpoint, while they have watches.
    peers: HashMap<String, Arc<Peer>>,
    next_connection: u64,
}

/// A connection to another process's listener.
struct Peer {
    /// Lines to send.
    send: mpsc::UnboundedSender<String>,
    /// Watches under way on this connection, by `_id`; `None` once the
    /// connection ended (a watch then needs a new one).
    waiting: Mutex<Option<HashMap<ObjectId, Vec<oneshot::Sender<Woken>>>>>,
}

impl Peer {
    fn waiting(
        &self,
    ) -> std::sync::MutexGuard<'_, Option<HashMap<ObjectId, Vec<oneshot::Sender<Woken>>>>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn alive(&self) -> bool {
        self.waiting().is_some()
    }
}

/// Cuts every wake-up connection of the process (see [`cut_connections`]).
static CUT: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Ends every wake-up connection of this process, in both directions, as a
/// network fault would: their watches end `Broken` (the waiters poll), and
/// later watches connect again. For fault tests (the debug build's
/// `debugCutWakeUps()`).
pub fn cut_connections() {
    CUT.notify_waiters();
}

/// Watches under way in this process on other processes' holdings, over
/// every listener (tests wait for a watch to stand before they cut it).
pub fn open_watches() -> usize {
    let listeners: Vec<Arc<Listener>> = LISTENERS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .values()
        .filter_map(|slot| slot.get().cloned().flatten())
        .collect();
    listeners
        .iter()
        .flat_map(|l| l.state().peers.values().cloned().collect::<Vec<_>>())
        .map(|peer| {
            peer.waiting().as_ref().map_or(0, |w| {
                w.values().flatten().filter(|t| !t.is_closed()).count()
            })
        })
        .sum()
}

type Slot = Arc<tokio::sync::OnceCell<Option<Arc<Listener>>>>;
static LISTENERS: LazyLock<Mutex<HashMap<String, Slot>>> = LazyLock::new(Default::default);

/// The listener of `namespace` on `shared`'s client, started on first use;
/// `None` where none can be started (no loopback interface: waiters are
/// then polled, as before).
///
/// `address`: the IP address to listen on and to write into documents,
/// for waiters on other hosts; loopback (this host only) when `None`.
pub async fn of(
    shared: &Arc<Shared>,
    namespace: &str,
    host: &str,
    address: Option<IpAddr>,
) -> Option<Arc<Listener>> {
    let key = format!("{:p}\u{0}{namespace}\u{0}{address:?}", Arc::as_ptr(shared));
    let slot = {
        let mut all = LISTENERS.lock().unwrap_or_else(|p| p.into_inner());
        // Closed clients' listeners go, and so do failed starts: a client
        // opened later (maybe at the same address) tries again.
        all.retain(|_, slot| match slot.get() {
            Some(Some(listener)) => !listener.shared.is_closed(),
            Some(None) => false,
            None => true,
        });
        all.entry(key).or_default().clone()
    };
    slot.get_or_init(|| start(Arc::clone(shared), host.to_string(), address))
        .await
        .clone()
}

async fn start(
    shared: Arc<Shared>,
    host: String,
    address: Option<IpAddr>,
) -> Option<Arc<Listener>> {
    let ip = address.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let socket = match TcpListener::bind(SocketAddr::new(ip, 0)).await {
        Ok(socket) => socket,
        Err(e) => {
            notes::note_once(format!(
                "no wake-up listener on {ip} ({e}): waiters in other processes poll"
            ));
            return None;
        }
    };
    let port = socket.local_addr().map(|a| a.port()).unwrap_or(0);
    let key = ObjectId::new().to_hex();
    let endpoint = match address {
        Some(ip) => format!("{port}:{key}@{ip}"),
        None => format!("{port}:{key}"),
    };
    let listener = Arc::new(Listener {
        host,
        endpoint,
        key,
        shared,
        state: Mutex::default(),
    });
    let serving = Arc::clone(&listener);
    tokio::spawn(async move {
        tokio::select! {
            _ = serving.serve(socket) => {}
            _ = serving.shared.closing() => {}
        }
        serving.close();
    });
    Some(listener)
}

impl Listener {
    /// `"<port>:<key>"` (or `"<port>:<key>@<address>"`), for the `wakeUp`
    /// field of this process's documents.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `id` is about to be inserted by this process: watches of it wait
    /// until [`ended`](Self::ended).
    pub fn holding(&self, id: ObjectId) {
        self.state().held.entry(id).or_default();
    }

    /// The holding `id` ended here (its delete was acknowledged, it was
    /// lost, or its insert failed): every watcher of it is told.
    pub fn ended(&self, id: ObjectId) {
        let watchers = self.state().held.remove(&id).unwrap_or_default();
        Self::tell_gone(id, watchers);
    }

    /// Another process says it removed the holding `id` (`ENDED`): its
    /// watchers are told, but it stays registered until it ends here, since
    /// only this process's own calls know (a false `ENDED` then costs each
    /// watcher one try, and later watches still wait for the real end).
    fn removed_elsewhere(&self, id: ObjectId) {
        let watchers = match self.state().held.get_mut(&id) {
            Some(watchers) => std::mem::take(watchers),
            None => return,
        };
        Self::tell_gone(id, watchers);
    }

    fn tell_gone(id: ObjectId, watchers: Vec<Watcher>) {
        let line = format!("GONE {}\n", id.to_hex());
        for watcher in watchers {
            match watcher {
                Watcher::Remote(_, send) => {
                    // A full queue: that waiter stopped reading; it polls.
                    let _ = send.try_send(line.clone());
                }
                Watcher::Local(tell) => {
                    let _ = tell.send(Woken::Gone);
                }
            }
        }
    }

    /// Waits until the holding `id`, held by the process whose listener is
    /// `wake_up` on `host`, ends there (or cannot be watched from here).
    pub async fn watch(&self, host: &str, wake_up: &str, id: ObjectId) -> Woken {
        if self.shared.is_closed() {
            return Woken::Closed;
        }
        let (tell, told) = oneshot::channel();
        if wake_up == self.endpoint && host == self.host {
            let mut state = self.state();
            match state.held.get_mut(&id) {
                Some(watchers) => watchers.push(Watcher::Local(tell)),
                None => return Woken::Gone,
            }
        } else {
            let Some((at, key)) = self.reachable(host, wake_up) else {
                return Woken::Unreachable;
            };
            let Some(peer) = self.peer(wake_up, at, key).await else {
                return Woken::Unreachable;
            };
            {
                let mut waiting = peer.waiting();
                let Some(waiting) = waiting.as_mut() else {
                    return Woken::Broken;
                };
                let list = waiting.entry(id).or_default();
                // Watches given up (their waiter stopped waiting) go.
                list.retain(|tell| !tell.is_closed());
                list.push(tell);
            }
            // Sent for every watch: the holder counts one per connection.
            if peer.send.send(format!("WATCH {}\n", id.to_hex())).is_err() {
                return Woken::Broken;
            }
        }
        tokio::select! {
            woken = told => woken.unwrap_or(Woken::Broken),
            _ = self.shared.closing() => Woken::Closed,
        }
    }

    /// Tells the listener `wake_up` on `host` that its holding `id` was
    /// removed by this process, so that its watchers try now. Best effort:
    /// an unreachable listener's watchers wait for the lease's end.
    pub async fn tell_ended(&self, host: &str, wake_up: &str, id: ObjectId) {
        if wake_up == self.endpoint && host == self.host {
            return self.ended(id);
        }
        let Some((at, key)) = self.reachable(host, wake_up) else {
            return;
        };
        if let Some(peer) = self.peer(wake_up, at, key).await {
            let _ = peer.send.send(format!("ENDED {}\n", id.to_hex()));
        }
    }

    /// Where to reach the listener `wake_up` of a process on `host`, and its
    /// key: its address when it gives one, else loopback on this host only.
    fn reachable<'a>(&self, host: &str, wake_up: &'a str) -> Option<(SocketAddr, &'a str)> {
        let (port_key, address) = match wake_up.split_once('@') {
            Some((port_key, address)) => (port_key, Some(address.parse::<IpAddr>().ok()?)),
            None => (wake_up, None),
        };
        let (port, key) = port_key.split_once(':')?;
        let port: u16 = port.parse().ok()?;
        let well_formed =
            !key.is_empty() && key.len() <= 24 && key.bytes().all(|b| b.is_ascii_hexdigit());
        if !well_formed {
            return None;
        }
        match address {
            Some(ip) => Some((SocketAddr::new(ip, port), key)),
            None if host == self.host => Some((SocketAddr::from((Ipv4Addr::LOCALHOST, port)), key)),
            None => None,
        }
    }

    /// The connection to the listener `wake_up`, opened if need be.
    async fn peer(&self, wake_up: &str, at: SocketAddr, key: &str) -> Option<Arc<Peer>> {
        if let Some(peer) = self.state().peers.get(wake_up) {
            if peer.alive() {
                return Some(Arc::clone(peer));
            }
        }
        let connect = TcpStream::connect(at);
        let stream = match tokio::time::timeout(CONNECT_WITHIN, connect).await {
            Ok(Ok(stream)) => stream,
            _ => return None,
        };
        let _ = stream.set_nodelay(true);
        let (read, mut write) = stream.into_split();
        let (send, mut outgoing) = mpsc::unbounded_channel::<String>();
        let _ = send.send(format!("HELLO {key}\n"));
        let peer = Arc::new(Peer {
            send,
            waiting: Mutex::new(Some(HashMap::new())),
        });
        {
            let mut state = self.state();
            // Another watch connected first: use its connection.
            if let Some(existing) = state.peers.get(wake_up) {
                if existing.alive() {
                    return Some(Arc::clone(existing));
                }
            }
            state.peers.retain(|_, peer| peer.alive());
            state.peers.insert(wake_up.to_string(), Arc::clone(&peer));
        }
        let shared = Arc::clone(&self.shared);
        tokio::spawn(async move {
            tokio::select! {
                _ = async {
                    while let Some(line) = outgoing.recv().await {
                        if write.write_all(line.as_bytes()).await.is_err() {
                            break;
                        }
                    }
                } => {}
                _ = shared.closing() => {}
                _ = CUT.notified() => {}
            }
        });
        let reading = Arc::clone(&peer);
        let shared = Arc::clone(&self.shared);
        tokio::spawn(async move {
            let ended = tokio::select! {
                ended = reading.read(read) => ended,
                _ = shared.closing() => Woken::Closed,
                _ = CUT.notified() => Woken::Broken,
            };
            let waiting = reading.waiting().take().unwrap_or_default();
            for tell in waiting.into_values().flatten() {
                let _ = tell.send(ended);
            }
        });
        Some(peer)
    }

    /// Serves waiters' connections until the socket fails.
    async fn serve(self: &Arc<Self>, socket: TcpListener) {
        let served = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        loop {
            let stream = match socket.accept().await {
                Ok((stream, _)) => stream,
                // Out of file descriptors, say: the listener stays, and
                // tries again shortly (waiters meanwhile poll).
                Err(e) => {
                    notes::note_once(format!("wake-up listener: accept failed ({e}); retrying"));
                    tokio::time::sleep(ACCEPT_RETRY).await;
                    continue;
                }
            };
            if served.load(std::sync::atomic::Ordering::Acquire) >= MAX_CONNECTIONS {
                continue; // dropped: closed at once
            }
            let _ = stream.set_nodelay(true);
            let number = {
                let mut state = self.state();
                state.next_connection += 1;
                state.next_connection
            };
            let this = Arc::clone(self);
            let served = Arc::clone(&served);
            served.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
            tokio::spawn(async move {
                tokio::select! {
                    _ = this.answer(stream, number) => {}
                    _ = this.shared.closing() => {}
                    _ = CUT.notified() => {}
                }
                served.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
            });
        }
    }

    /// One waiter's connection: `HELLO`, then watches answered with `GONE`.
    async fn answer(&self, stream: TcpStream, number: u64) {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read.take(u64::MAX));
        let hello = tokio::time::timeout(HELLO_WITHIN, read_line(&mut lines)).await;
        if hello.ok().flatten().as_deref() != Some(&format!("HELLO {}", self.key)) {
            let _ = write.write_all(b"BAD\n").await;
            return;
        }
        let (send, mut outgoing) = mpsc::channel::<String>(MAX_QUEUED_REPLIES);
        let writing = async {
            while let Some(line) = outgoing.recv().await {
                if write.write_all(line.as_bytes()).await.is_err() {
                    return;
                }
            }
        };
        let reading = async {
            while let Some(line) = read_line(&mut lines).await {
                if let Some(id) = line
                    .strip_prefix("ENDED ")
                    .and_then(|h| ObjectId::parse_str(h).ok())
                {
                    self.removed_elsewhere(id);
                    continue;
                }
                let Some(id) = line
                    .strip_prefix("WATCH ")
                    .and_then(|h| ObjectId::parse_str(h).ok())
                else {
                    return;
                };
                // Only `_id`s held here are kept (one entry per connection
                // each); others are answered at once, into a bounded queue.
                let mut state = self.state();
                match state.held.get_mut(&id) {
                    Some(watchers) => {
                        let known = watchers
                            .iter()
                            .any(|w| matches!(w, Watcher::Remote(n, _) if *n == number));
                        if !known {
                            watchers.push(Watcher::Remote(number, send.clone()));
                        }
                    }
                    None => {
                        if send.try_send(format!("GONE {}\n", id.to_hex())).is_err() {
                            return; // not reading its replies: closed
                        }
                    }
                }
            }
        };
        tokio::select! {
            _ = writing => {}
            _ = reading => {}
        }
    }

    /// The client closed: every watch of this process's holdings, and every
    /// connection, ends (their tasks select on the closing too).
    fn close(&self) {
        let mut state = self.state();
        state.held.clear();
        state.peers.clear();
    }
}

impl Peer {
    /// Reads `GONE` lines until the connection ends; says how it ended.
    async fn read(&self, read: tokio::net::tcp::OwnedReadHalf) -> Woken {
        let mut lines = BufReader::new(read.take(u64::MAX));
        while let Some(line) = read_line(&mut lines).await {
            if line == "BAD" {
                return Woken::Unreachable;
            }
            let Some(id) = line
                .strip_prefix("GONE ")
                .and_then(|h| ObjectId::parse_str(h).ok())
            else {
                return Woken::Broken;
            };
            let told = self
                .waiting()
                .as_mut()
                .and_then(|waiting| waiting.remove(&id))
                .unwrap_or_default();
            for tell in told {
                let _ = tell.send(Woken::Gone);
            }
        }
        Woken::Broken
    }
}

/// One line (without its newline), or `None` at the end, on an error or
/// past [`MAX_LINE`] bytes.
async fn read_line(
    lines: &mut BufReader<tokio::io::Take<tokio::net::tcp::OwnedReadHalf>>,
) -> Option<String> {
    let mut line = String::new();
    lines.get_mut().set_limit(MAX_LINE);
    match lines.read_line(&mut line).await {
        Ok(0) | Err(_) => None,
        Ok(_) if !line.ends_with('\n') => None,
        Ok(_) => Some(line.trim_end().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client_options::ClientSpec;

    /// Whether `watch` is still waiting after `ms`.
    async fn still_waiting<F: std::future::Future + Unpin>(watch: &mut F, ms: u64) -> bool {
        tokio::time::timeout(Duration::from_millis(ms), watch)
            .await
            .is_err()
    }

    /// Two listeners of one process (two collections), as two processes
    /// would have: no server is needed, the client is never used.
    async fn pair(uri: &str) -> (Arc<Shared>, Arc<Listener>, Arc<Listener>) {
        let shared = crate::connection::shared(&ClientSpec::from_uri(uri))
            .await
            .unwrap();
        let holder = of(&shared, "db.holder", "here", None).await.unwrap();
        let waiter = of(&shared, "db.waiter", "here", None).await.unwrap();
        (shared, holder, waiter)
    }

    #[tokio::test]
    async fn a_watch_ends_when_the_holding_ends_and_not_before() {
        let (_, holder, waiter) = pair("mongodb://127.0.0.1:9/?appName=listener1").await;
        let id = ObjectId::new();
        holder.holding(id);
        let watch = waiter.watch("here", holder.endpoint(), id);
        tokio::pin!(watch);
        // Still held: the watch waits.
        assert!(
            still_waiting(&mut watch, 200).await,
            "woken before the holding ended"
        );
        holder.ended(id);
        assert_eq!(watch.await, Woken::Gone);
    }

    #[tokio::test]
    async fn a_watch_of_a_holding_already_ended_returns_at_once() {
        // The lost-wake-up race: released between the waiter's try and its watch.
        let (_, holder, waiter) = pair("mongodb://127.0.0.1:9/?appName=listener2").await;
        let id = ObjectId::new();
        holder.holding(id);
        holder.ended(id);
        assert_eq!(
            waiter.watch("here", holder.endpoint(), id).await,
            Woken::Gone
        );
        // In its own process too.
        assert_eq!(
            holder.watch("here", holder.endpoint(), id).await,
            Woken::Gone
        );
    }

    #[tokio::test]
    async fn the_end_of_one_holding_wakes_only_its_watchers() {
        let (_, holder, waiter) = pair("mongodb://127.0.0.1:9/?appName=listener3").await;
        let (a, b) = (ObjectId::new(), ObjectId::new());
        holder.holding(a);
        holder.holding(b);
        let watch_b = waiter.watch("here", holder.endpoint(), b);
        tokio::pin!(watch_b);
        let watch_a = waiter.watch("here", holder.endpoint(), a);
        tokio::pin!(watch_a);
        assert!(still_waiting(&mut watch_b, 100).await);
        holder.ended(a);
        assert_eq!(watch_a.await, Woken::Gone);
        assert!(still_waiting(&mut watch_b, 200).await);
        holder.ended(b);
        assert_eq!(watch_b.await, Woken::Gone);
    }

    #[tokio::test]
    async fn another_host_another_key_or_no_listener_is_unreachable() {
        let (_, holder, waiter) = pair("mongodb://127.0.0.1:9/?appName=listener4").await;
        let id = ObjectId::new();
        holder.holding(id);
        assert_eq!(
            waiter.watch("elsewhere", holder.endpoint(), id).await,
            Woken::Unreachable
        );
        let port = holder.endpoint().split(':').next().unwrap();
        let wrong_key = format!("{port}:{}", ObjectId::new().to_hex());
        assert_eq!(
            waiter.watch("here", &wrong_key, id).await,
            Woken::Unreachable
        );
        assert_eq!(
            waiter.watch("here", "not an endpoint", id).await,
            Woken::Unreachable
        );
        // A port nobody listens on (the discard port, closed on test machines).
        let nobody = format!("9:{}", ObjectId::new().to_hex());
        assert_eq!(waiter.watch("here", &nobody, id).await, Woken::Unreachable);
    }

    #[tokio::test]
    async fn ended_from_elsewhere_wakes_the_watchers_but_a_later_watch_waits_for_the_real_end() {
        let (_, holder, waiter) = pair("mongodb://127.0.0.1:9/?appName=listener8").await;
        let id = ObjectId::new();
        holder.holding(id);
        let watch = waiter.watch("here", holder.endpoint(), id);
        tokio::pin!(watch);
        assert!(still_waiting(&mut watch, 100).await);
        // A forcer (or anyone with the key) says it removed the holding.
        waiter.tell_ended("here", holder.endpoint(), id).await;
        assert_eq!(watch.await, Woken::Gone);
        // Still held here as far as the holder knows: a new watch waits.
        let again = waiter.watch("here", holder.endpoint(), id);
        tokio::pin!(again);
        assert!(still_waiting(&mut again, 200).await);
        holder.ended(id);
        assert_eq!(again.await, Woken::Gone);
    }

    #[tokio::test]
    async fn a_listener_with_an_address_is_watched_from_another_host() {
        let shared = crate::connection::shared(&ClientSpec::from_uri(
            "mongodb://127.0.0.1:9/?appName=listener7",
        ))
        .await
        .unwrap();
        // 127.0.0.2: another address of this machine (all of 127/8 is loopback).
        let address = Some("127.0.0.2".parse().unwrap());
        let holder = of(&shared, "db.h", "there", address).await.unwrap();
        let waiter = of(&shared, "db.w", "here", None).await.unwrap();
        assert!(holder.endpoint().ends_with("@127.0.0.2"));
        let id = ObjectId::new();
        holder.holding(id);
        let watch = waiter.watch("there", holder.endpoint(), id);
        tokio::pin!(watch);
        assert!(still_waiting(&mut watch, 100).await);
        holder.ended(id);
        assert_eq!(watch.await, Woken::Gone);
        // Without its address, a listener of another host is out of reach.
        let loopback_only = holder.endpoint().split('@').next().unwrap().to_string();
        assert_eq!(
            waiter.watch("there", &loopback_only, id).await,
            Woken::Unreachable
        );
    }

    #[tokio::test]
    async fn a_closed_holder_breaks_its_watches_and_a_closed_waiter_ends_them() {
        let holder_spec = ClientSpec::from_uri("mongodb://127.0.0.1:9/?appName=listener5");
        let waiter_spec = ClientSpec::from_uri("mongodb://127.0.0.1:9/?appName=listener6");
        let holder_client = crate::connection::shared(&holder_spec).await.unwrap();
        let waiter_client = crate::connection::shared(&waiter_spec).await.unwrap();
        let holder = of(&holder_client, "db.c", "here", None).await.unwrap();
        let waiter = of(&waiter_client, "db.c", "here", None).await.unwrap();
        let id = ObjectId::new();
        holder.holding(id);
        let watch = waiter.watch("here", holder.endpoint(), id);
        tokio::pin!(watch);
        assert!(still_waiting(&mut watch, 100).await);
        crate::connection::close(&holder_spec).await;
        assert_eq!(watch.await, Woken::Broken);
        // A new client of the same settings gets a new listener.
        let reopened = crate::connection::shared(&holder_spec).await.unwrap();
        let again = of(&reopened, "db.c", "here", None).await.unwrap();
        assert_ne!(again.endpoint(), holder.endpoint());
        again.holding(id);
        let watch = waiter.watch("here", again.endpoint(), id);
        tokio::pin!(watch);
        assert!(still_waiting(&mut watch, 100).await);
        crate::connection::close(&waiter_spec).await;
        assert_eq!(watch.await, Woken::Closed);
        crate::connection::close(&holder_spec).await;
    }
}
