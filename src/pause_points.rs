//! Pause points for tests: a test arms a named point in the protocol, the next
//! call that passes it waits there until the test opens it. This is how the
//! races of fencing (a read that ran before the lock insert, a holder forced
//! out while it claims) are played in a fixed order against a real server.
//!
//! Arming works only where `MONGOOSE_DISTRIBUTED_LOCK_MONITOR` is set (the
//! test command sets it); elsewhere a point is one relaxed atomic load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// Before the lock-plus-twin insert of an acquire.
pub const LOCK_INSERT: &str = "lock-insert";
/// Before the read of the highest fencing token that goes with that insert.
pub const FENCING_READ: &str = "fencing-read";
/// Before a waiter's watch of the holding its failed try found (the window
/// of the lost-wake-up race: a release there must still wake it).
pub const WAKE_UP_WATCH: &str = "wake-up-watch";

static ANY_ARMED: AtomicBool = AtomicBool::new(false);
static POINTS: Mutex<Vec<Point>> = Mutex::new(Vec::new());

struct Point {
    name: String,
    caught: bool,
    open: Arc<Notify>,
}

fn points() -> std::sync::MutexGuard<'static, Vec<Point>> {
    POINTS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Arms `name`: the next call to pass it waits for [`open`]. False where
/// tests are not running (`MONGOOSE_DISTRIBUTED_LOCK_MONITOR` unset).
pub fn arm(name: &str) -> bool {
    if std::env::var_os(crate::connection::MONITOR_ENV).is_none() {
        return false;
    }
    points().push(Point {
        name: name.to_string(),
        caught: false,
        open: Arc::new(Notify::new()),
    });
    ANY_ARMED.store(true, Ordering::Release);
    true
}

/// Whether a call is waiting at the armed point `name`.
pub fn caught(name: &str) -> bool {
    points().iter().any(|p| p.name == name && p.caught)
}

/// Lets the call waiting at `name` go on (or the next one pass), and disarms it.
pub fn open(name: &str) {
    let mut points = points();
    if let Some(i) = points.iter().position(|p| p.name == name) {
        points.remove(i).open.notify_one();
    }
    if points.is_empty() {
        ANY_ARMED.store(false, Ordering::Release);
    }
}

/// Passes the point `name`, waiting there if a test armed it.
pub async fn pass(name: &str) {
    if !ANY_ARMED.load(Ordering::Relaxed) {
        return;
    }
    let wait = {
        let mut points = points();
        points
            .iter_mut()
            .find(|p| p.name == name && !p.caught)
            .map(|p| {
                p.caught = true;
                Arc::clone(&p.open)
            })
    };
    if let Some(open) = wait {
        open.notified().await;
    }
}
