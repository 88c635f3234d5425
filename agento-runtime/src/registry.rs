//! The spans that are open right now, so that a signal can end them.
//!
//! Registration is switched on by the signal handler (see [`crate::signals`]);
//! without it, starting a span costs no lock here. With it, the open spans are
//! spread over [`SHARDS`] maps by their (random) span id, so that threads
//! starting and ending spans at once rarely meet on one lock; only a signal
//! takes them all.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::Context;
use opentelemetry::trace::TraceContextExt;

use crate::error::record_error;

static ENABLED: AtomicBool = AtomicBool::new(false);
/// How many independently locked maps hold the open spans.
const SHARDS: usize = 64;

type Shard = Mutex<Option<HashMap<u64, Context>>>;

static OPEN: [Shard; SHARDS] = [const { Mutex::new(None) }; SHARDS];

/// The map that holds the span with this key.
fn shard(key: u64) -> &'static Shard {
    // Span ids are random: their low bits spread the keys evenly. The modulo
    // keeps the index below `SHARDS`, so the cast cannot truncate a used bit.
    #[allow(clippy::cast_possible_truncation)]
    &OPEN[(key % SHARDS as u64) as usize]
}

pub(crate) fn enable() {
    ENABLED.store(true, Ordering::Release);
}

/// Registers the span active in `cx`; returns its key when registration is on.
pub(crate) fn register(cx: &Context) -> Option<u64> {
    if !ENABLED.load(Ordering::Acquire) {
        return None;
    }
    let span = cx.span();
    let context = span.span_context();
    if !context.is_valid() {
        return None;
    }
    let key = u64::from_be_bytes(context.span_id().to_bytes());
    shard(key)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert(key, cx.clone());
    Some(key)
}

pub(crate) fn unregister(key: u64) {
    if let Some(open) = shard(key)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_mut()
    {
        open.remove(&key);
    }
}

/// Ends every open span with status `ERROR`, `error.type` = `error_type` and
/// `message`; returns how many were ended.
pub(crate) fn end_all(error_type: &str, message: &str) -> usize {
    let open: Vec<Context> = OPEN
        .iter()
        .flat_map(|shard| {
            shard
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_mut()
                .map(|open| open.drain().map(|(_, cx)| cx).collect::<Vec<_>>())
                .unwrap_or_default()
        })
        .collect();
    for cx in &open {
        let span = cx.span();
        record_error(&span, error_type, message);
        span.end();
    }
    open.len()
}
