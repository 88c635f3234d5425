//! The tracer every span of ours is started with.
//!
//! While a [`Telemetry`](crate::Telemetry) is active its SDK tracer is used
//! directly; otherwise spans go to the global tracer provider (so that a user who
//! set one up by hand still gets our spans).

use std::borrow::Cow;
use std::sync::RwLock;

use opentelemetry::trace::{SpanBuilder, TraceContextExt, Tracer};
use opentelemetry::{Context, global};
use opentelemetry_sdk::trace::SdkTracer;

/// The instrumentation scope name of every span the framework creates.
pub const SCOPE_NAME: &str = "agento";

static ACTIVE: RwLock<Option<SdkTracer>> = RwLock::new(None);

pub(crate) fn install(tracer: Option<SdkTracer>) {
    *ACTIVE.write().unwrap_or_else(|e| e.into_inner()) = tracer;
}

/// Starts a span from `builder` as a child of `parent`; returns `parent` with the
/// new span active.
pub(crate) fn start(builder: SpanBuilder, parent: &Context) -> Context {
    let active = ACTIVE.read().unwrap_or_else(|e| e.into_inner());
    match active.as_ref() {
        Some(tracer) => parent.with_span(tracer.build_with_context(builder, parent)),
        None => {
            drop(active);
            let tracer = global::tracer(Cow::Borrowed(SCOPE_NAME));
            parent.with_span(tracer.build_with_context(builder, parent))
        }
    }
}
