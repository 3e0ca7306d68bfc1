//! The request counts behind the rate-limit headers: per key, resource
//! and project, as Atlas counts.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a rate window lasts, from its first request (as Atlas counts:
/// not the calendar minute).
const WINDOW: Duration = Duration::from_secs(60);

/// Which count a request draws on: Atlas keeps one per key, resource (the
/// route, whatever the method: certificate create and list share one) and
/// project (recorded `TestAtlasProjects`: `GET /groups/{id}` opens a new
/// count after `GET /groups`, and `/groups/{id}/users` another).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Bucket {
    /// The authenticated key or service account.
    pub(super) who: String,
    /// The route's pattern, without the API version's prefix (ours: v1.0
    /// and v2 share a count).
    pub(super) resource: String,
    /// The project the path names, if any.
    pub(super) group: Option<String>,
}

/// Requests per [`Bucket`] in the window its first request opened, for the
/// rate-limit headers. Only keys that authenticated are counted, on routes
/// that exist and projects that exist, so the table never holds more
/// entries than keys times routes times projects of the registry.
#[derive(Default)]
pub(super) struct RateWindow {
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    by_bucket: HashMap<Bucket, (Instant, u32)>,
    /// When windows that ended were last swept out.
    swept: Option<Instant>,
}

/// How often ended windows are swept out: each request then costs the
/// same whatever the table holds.
const SWEEP: Duration = Duration::from_secs(1);

impl RateWindow {
    /// Counts a request in `bucket` against the allowance `limit`; returns
    /// what remains of it.
    pub(super) fn hit(&self, bucket: Bucket, limit: u32) -> u32 {
        let now = Instant::now();
        // A poisoned lock only interrupted a counter update; counts stay usable.
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.swept.is_none_or(|t| now.duration_since(t) >= SWEEP) {
            counts
                .by_bucket
                .retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
            counts.swept = Some(now);
        }
        let entry = counts.by_bucket.entry(bucket).or_insert((now, 0));
        // A window that ended since the last sweep starts again.
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        limit.saturating_sub(entry.1)
    }
}
