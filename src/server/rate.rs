//! The per-key request counts behind the rate-limit headers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a rate window lasts, from its first request (as Atlas counts:
/// not the calendar minute).
const WINDOW: Duration = Duration::from_secs(60);

/// Requests per authenticated API key and allowance (every databaseUsers
/// endpoint shares one count, the certificate endpoints another) in the
/// window its first request opened, for the rate-limit headers. Only keys
/// that authenticated are counted, so the table never holds more entries
/// than the registry has keys times the allowances.
#[derive(Default)]
pub(super) struct RateWindow {
    counts: Mutex<HashMap<(String, u32), (Instant, u32)>>,
}

impl RateWindow {
    /// Counts a request by the authenticated key `who` against the
    /// allowance `limit`; returns what remains of it.
    pub(super) fn hit(&self, who: &str, limit: u32) -> u32 {
        let now = Instant::now();
        // A poisoned lock only interrupted a counter update; counts stay usable.
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        let entry = counts.entry((who.to_string(), limit)).or_insert((now, 0));
        entry.1 = entry.1.saturating_add(1);
        limit.saturating_sub(entry.1)
    }
}
