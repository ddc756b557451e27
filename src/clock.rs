//! The server's clock, as seen from this process.
//!
//! Every expiry decision uses server time, so a client whose own clock is off
//! by minutes neither steals a live lock nor waits past a dead one. The offset
//! between the local clock and the server's is measured with `hello`, whose
//! reply carries the server's `localTime`, corrected by half the round trip
//! (Cristian's algorithm). `$$NOW` would be simpler but FerretDB lacks it.
//!
//! Between measurements the server's time is carried forward on this
//! process's *monotonic* clock, not its wall clock: a client whose wall clock
//! steps (NTP, a VM resumed, someone setting the date) neither treats live
//! leases as expired nor waits past dead ones.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mongodb::bson::{doc, Document};
use mongodb::Client;
use tokio::sync::Mutex;

use crate::error::{LockError, Result};

/// How long a measured offset is trusted before it is measured again.
pub const REFRESH_EVERY: Duration = Duration::from_secs(30);
/// Samples taken at each measurement; the one with the shortest round trip wins.
const SAMPLES: usize = 2;

/// Milliseconds since the Unix epoch on this machine's clock.
pub fn local_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        // A clock before 1970 is possible under faketime; count backwards.
        .unwrap_or_else(|e| -(e.duration().as_millis() as i64))
}

/// One `hello` exchange: local send time, round trip, and the server's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub sent_local_ms: i64,
    pub round_trip_ms: i64,
    pub server_ms: i64,
}

impl Sample {
    /// Server time minus local time, assuming the reply was stamped halfway.
    pub fn offset_ms(&self) -> i64 {
        self.server_ms - (self.sent_local_ms + self.round_trip_ms / 2)
    }
}

/// The offset of the sample with the shortest round trip, the least uncertain one.
pub fn best_offset(samples: &[Sample]) -> Option<i64> {
    samples
        .iter()
        .min_by_key(|s| s.round_trip_ms)
        .map(Sample::offset_ms)
}

#[derive(Debug)]
pub struct ServerClock {
    offset_ms: AtomicI64,
    /// Set when the offset must be measured before its next use: at start,
    /// after a pool was cleared (a reconnect) and after a network error.
    stale: AtomicBool,
    measured_at: std::sync::Mutex<Option<Instant>>,
    /// The server's time (ms) at a monotonic instant: now is that time plus
    /// the monotonic time elapsed since.
    anchor: std::sync::Mutex<Option<(Instant, i64)>>,
    /// Single-flight: concurrent callers wait for one measurement.
    measuring: Mutex<()>,
}

impl Default for ServerClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerClock {
    pub fn new() -> Self {
        ServerClock {
            offset_ms: AtomicI64::new(0),
            stale: AtomicBool::new(true),
            measured_at: std::sync::Mutex::new(None),
            anchor: std::sync::Mutex::new(None),
            measuring: Mutex::new(()),
        }
    }

    /// Forget the offset; the next [`ServerClock::now_ms`] measures it again.
    pub fn mark_stale(&self) {
        self.stale.store(true, Ordering::Release);
    }

    fn is_fresh(&self) -> bool {
        if self.stale.load(Ordering::Acquire) {
            return false;
        }
        let at = *self.measured_at.lock().unwrap_or_else(|p| p.into_inner());
        at.is_some_and(|t| t.elapsed() < REFRESH_EVERY)
    }

    /// The last measured offset (server minus local), in milliseconds.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Acquire)
    }

    /// The server's current time in milliseconds since the epoch.
    pub async fn now_ms(&self, client: &Client) -> Result<i64> {
        if !self.is_fresh() {
            self.measure(client).await?;
        }
        let anchor = *self.anchor.lock().unwrap_or_else(|p| p.into_inner());
        Ok(match anchor {
            Some((at, server_ms)) => server_ms + at.elapsed().as_millis() as i64,
            None => local_now_ms() + self.offset_ms(),
        })
    }

    async fn measure(&self, client: &Client) -> Result<()> {
        let _guard = self.measuring.lock().await;
        if self.is_fresh() {
            return Ok(()); // measured by whoever held the guard before us
        }
        // Cleared before sampling: a reconnect during sampling marks it again.
        self.stale.store(false, Ordering::Release);
        let admin = client.database("admin");
        let mut samples = Vec::with_capacity(SAMPLES);
        let mut anchors = Vec::with_capacity(SAMPLES);
        for _ in 0..SAMPLES {
            let sent_local_ms = local_now_ms();
            let started = Instant::now();
            let reply: Document = admin.run_command(doc! { "hello": 1 }).await.map_err(|e| {
                self.mark_stale();
                LockError::driver("hello", e)
            })?;
            let round_trip = started.elapsed();
            let round_trip_ms = round_trip.as_millis() as i64;
            match reply.get_datetime("localTime") {
                Ok(t) => {
                    samples.push(Sample {
                        sent_local_ms,
                        round_trip_ms,
                        server_ms: t.timestamp_millis(),
                    });
                    // The server read its clock halfway through the round trip.
                    anchors.push((
                        round_trip_ms,
                        started + round_trip / 2,
                        t.timestamp_millis(),
                    ));
                }
                // A server that does not say its time: trust the local clock.
                Err(_) => break,
            }
        }
        self.offset_ms
            .store(best_offset(&samples).unwrap_or(0), Ordering::Release);
        let anchor = anchors
            .into_iter()
            .min_by_key(|(rtt, _, _)| *rtt)
            .map(|(_, at, server_ms)| (at, server_ms))
            .unwrap_or_else(|| (Instant::now(), local_now_ms()));
        *self.anchor.lock().unwrap_or_else(|p| p.into_inner()) = Some(anchor);
        crate::notes::note(match samples.iter().min_by_key(|s| s.round_trip_ms) {
            Some(best) => format!(
                "server clock measured: offset {} ms from this machine's clock (round trip {} ms)",
                best.offset_ms(),
                best.round_trip_ms
            ),
            None => "server clock: the server does not report its time; using this machine's clock"
                .to_string(),
        });
        *self.measured_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_is_corrected_by_half_the_round_trip() {
        // Sent at 1000 local, 10 ms round trip, server stamped 6005:
        // the server read its clock at local 1005, so it is 5000 ms ahead.
        let s = Sample {
            sent_local_ms: 1000,
            round_trip_ms: 10,
            server_ms: 6005,
        };
        assert_eq!(s.offset_ms(), 5000);
    }

    #[test]
    fn a_client_behind_the_server_gets_a_negative_offset() {
        let s = Sample {
            sent_local_ms: 600_000,
            round_trip_ms: 0,
            server_ms: 0,
        };
        assert_eq!(s.offset_ms(), -600_000);
    }

    #[test]
    fn the_fastest_sample_wins() {
        let slow = Sample {
            sent_local_ms: 0,
            round_trip_ms: 400,
            server_ms: 500,
        };
        let fast = Sample {
            sent_local_ms: 0,
            round_trip_ms: 2,
            server_ms: 101,
        };
        assert_eq!(best_offset(&[slow, fast]), Some(100));
        assert_eq!(best_offset(&[]), None);
    }

    #[test]
    fn a_new_clock_is_stale_until_measured() {
        let clock = ServerClock::new();
        assert!(!clock.is_fresh());
        *clock.measured_at.lock().unwrap() = Some(Instant::now());
        clock.stale.store(false, Ordering::Release);
        assert!(clock.is_fresh());
        clock.mark_stale();
        assert!(!clock.is_fresh());
    }
}
