//! Aborting a call that is under way: a flag and a wake-up that a waiting
//! operation selects on. Dropping the operation's future stops its work; an
//! insert already sent is then withdrawn like one whose reply was lost.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use tokio::sync::Notify;

/// One abortable call's switch.
#[derive(Debug, Default)]
pub struct Abort {
    aborted: AtomicBool,
    notify: Notify,
}

impl Abort {
    pub fn abort(&self) {
        self.aborted.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }

    pub fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::Acquire)
    }

    /// Resolves once aborted (at once if it already is).
    pub async fn aborted(&self) {
        loop {
            let woken = self.notify.notified();
            if self.is_aborted() {
                return;
            }
            woken.await;
        }
    }
}

static NEXT: AtomicU32 = AtomicU32::new(1);
static ABORTS: LazyLock<Mutex<HashMap<u32, Arc<Abort>>>> = LazyLock::new(Default::default);

/// A new switch, by number (numbers cross the N-API boundary easily).
pub fn register() -> u32 {
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    ABORTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id, Arc::default());
    id
}

pub fn get(id: u32) -> Option<Arc<Abort>> {
    ABORTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&id)
        .cloned()
}

/// Flips switch `id`; calls selecting on it stop.
pub fn abort(id: u32) {
    if let Some(a) = get(id) {
        a.abort();
    }
}

/// Forgets switch `id` (its call is over).
pub fn release(id: u32) {
    ABORTS.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_abort_wakes_a_waiter_and_an_aborted_switch_answers_at_once() {
        let id = register();
        let switch = get(id).unwrap();
        let waiter = tokio::spawn({
            let switch = Arc::clone(&switch);
            async move { switch.aborted().await }
        });
        abort(id);
        waiter.await.unwrap();
        switch.aborted().await;
        release(id);
        assert!(get(id).is_none());
    }
}
