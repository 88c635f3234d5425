//! The spans that are open right now, so that a signal can end them.
//!
//! Registration is switched on by the signal handler (see [`crate::signals`]);
//! without it, starting a span costs no lock here.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::Context;
use opentelemetry::trace::TraceContextExt;

use crate::error::record_error;

static ENABLED: AtomicBool = AtomicBool::new(false);
static OPEN: Mutex<Option<HashMap<u64, Context>>> = Mutex::new(None);

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
    OPEN.lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert(key, cx.clone());
    Some(key)
}

pub(crate) fn unregister(key: u64) {
    if let Some(open) = OPEN.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
        open.remove(&key);
    }
}

/// Ends every open span with status `ERROR`, `error.type` = `error_type` and
/// `message`; returns how many were ended.
pub(crate) fn end_all(error_type: &str, message: &str) -> usize {
    let open: Vec<Context> = OPEN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_mut()
        .map(|open| open.drain().map(|(_, cx)| cx).collect())
        .unwrap_or_default();
    for cx in &open {
        let span = cx.span();
        record_error(&span, error_type, message);
        span.end();
    }
    open.len()
}
