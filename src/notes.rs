//! One-line notes for the application's debug log (clock measurements, TTL
//! detection and the like), kept until the JS layer takes and logs them.
//! Never secrets. A module of its own so that any part of the core can note
//! something without depending on the connection.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

static NOTES: Mutex<Vec<String>> = Mutex::new(Vec::new());
static NOTED: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Default::default);
/// Notes kept at most, until the application's log takes them.
const MAX_NOTES: usize = 100;

/// Keeps a line for the application's debug log. When nobody takes them,
/// the oldest are dropped.
pub fn note(line: String) {
    let mut notes = NOTES.lock().unwrap_or_else(|p| p.into_inner());
    if notes.len() >= MAX_NOTES {
        notes.remove(0);
    }
    notes.push(line);
}

/// Like [`note`], but each distinct line once per process (TTL detection).
pub fn note_once(line: String) {
    let mut noted = NOTED.lock().unwrap_or_else(|p| p.into_inner());
    if noted.len() >= MAX_NOTES || !noted.insert(line.clone()) {
        return;
    }
    drop(noted);
    note(line);
}

/// The notes kept since the last call.
pub fn take_notes() -> Vec<String> {
    std::mem::take(&mut *NOTES.lock().unwrap_or_else(|p| p.into_inner()))
}
