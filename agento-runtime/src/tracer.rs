//! The tracer every span of ours is started with.
//!
//! Inside a module that `agento run` nests, the module's own tracer (found in
//! the parent context, see [`StageTracer`]); otherwise, while a
//! [`Telemetry`](crate::Telemetry) is active, its SDK tracer; otherwise the
//! global tracer provider (so that a user who set one up by hand still gets
//! our spans). Our tracers' scope carries the module (`agento.module`), which
//! gives each span its module's resource on export (see [`crate::resources`]).

use std::borrow::Cow;
use std::sync::RwLock;

use opentelemetry::trace::{SpanBuilder, TraceContextExt, Tracer};
use opentelemetry::{Context, InstrumentationScope, KeyValue, global};
use opentelemetry_sdk::trace::SdkTracer;

/// The instrumentation scope name of every span the framework creates.
pub const SCOPE_NAME: &str = "agento";

/// The tracer of a module nested in an active run, kept in its span's context.
#[derive(Debug, Clone)]
pub(crate) struct StageTracer(pub(crate) SdkTracer);

/// The instrumentation scope of `module`'s spans.
pub(crate) fn scope(module: &str) -> InstrumentationScope {
    InstrumentationScope::builder(SCOPE_NAME)
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_attributes([KeyValue::new(
            crate::attributes::AGENTO_MODULE,
            module.to_owned(),
        )])
        .build()
}

static ACTIVE: RwLock<Option<SdkTracer>> = RwLock::new(None);

pub(crate) fn install(tracer: Option<SdkTracer>) {
    *ACTIVE.write().unwrap_or_else(|e| e.into_inner()) = tracer;
}

/// Whether a span started under `parent` goes to an SDK tracer of ours (a
/// nested module's, or the active telemetry's): it records unless a sampler
/// drops it. Otherwise it goes to the global provider, which may be a no-op.
pub(crate) fn ours(parent: &Context) -> bool {
    parent.get::<StageTracer>().is_some()
        || ACTIVE.read().unwrap_or_else(|e| e.into_inner()).is_some()
}

/// Starts a span from `builder` as a child of `parent`; returns `parent` with the
/// new span active.
pub(crate) fn start(builder: SpanBuilder, parent: &Context) -> Context {
    if let Some(StageTracer(tracer)) = parent.get::<StageTracer>() {
        return parent.with_span(tracer.build_with_context(builder, parent));
    }
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
