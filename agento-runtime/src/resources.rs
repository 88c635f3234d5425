//! One resource per module in one process: every span carries its module in
//! its instrumentation scope (`agento.module` scope attribute, see
//! [`crate::tracer`]); the archive and the OTLP exporter group a batch by it
//! and send each group under the process's resource with that module's
//! `agento.module`. So `agento run` gives the same three module resources as
//! the three stage binaries, in one trace, one archive and one exporter.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use crate::attributes::AGENTO_MODULE;
use crate::request_size::{self, MAX_REQUEST_BYTES};

/// The module a span was recorded for (its scope's `agento.module`).
pub(crate) fn module_of(span: &SpanData) -> Option<&str> {
    span.instrumentation_scope
        .attributes()
        .find(|kv| kv.key.as_str() == AGENTO_MODULE)
        .and_then(|kv| match &kv.value {
            Value::String(module) => Some(module.as_str()),
            _ => None,
        })
}

/// `batch` split by module, in the order modules first appear.
pub(crate) fn group_by_module(batch: Vec<SpanData>) -> Vec<(Option<String>, Vec<SpanData>)> {
    let mut groups: Vec<(Option<String>, Vec<SpanData>)> = Vec::new();
    for span in batch {
        let module = module_of(&span);
        match groups.iter_mut().find(|(m, _)| m.as_deref() == module) {
            Some((_, spans)) => spans.push(span),
            None => {
                let module = module.map(str::to_owned);
                groups.push((module, vec![span]));
            }
        }
    }
    groups
}

/// The process's resource and its per-module variants.
#[derive(Debug)]
pub(crate) struct ModuleResources {
    base: Resource,
    by_module: HashMap<String, Resource>,
}

impl ModuleResources {
    /// Variants of `base`.
    pub(crate) fn new(base: &Resource) -> Self {
        Self {
            base: base.clone(),
            by_module: HashMap::new(),
        }
    }

    /// The resource of `module`'s spans: the base with `agento.module = module`
    /// (the base itself for spans without a module).
    pub(crate) fn resource(&mut self, module: Option<&str>) -> &Resource {
        let Some(module) = module else {
            return &self.base;
        };
        let base = &self.base;
        self.by_module.entry(module.to_owned()).or_insert_with(|| {
            let mut builder = Resource::builder_empty().with_attributes(
                base.iter()
                    .filter(|(key, _)| key.as_str() != AGENTO_MODULE)
                    .map(|(key, value)| KeyValue::new(key.clone(), value.clone())),
            );
            if let Some(schema) = base.schema_url() {
                builder = builder.with_schema_url(Vec::<KeyValue>::new(), schema.to_owned());
            }
            builder
                .with_attribute(KeyValue::new(AGENTO_MODULE, module.to_owned()))
                .build()
        })
    }
}

/// An exporter that sends each module's spans under that module's resource
/// (one export per module present in a batch), with the GenAI message
/// attributes in their JSON shape (see [`crate::messages`]).
pub(crate) struct PerModule<E> {
    inner: tokio::sync::Mutex<E>,
    resources: Mutex<ModuleResources>,
}

impl<E> PerModule<E> {
    /// Wraps `inner`.
    pub(crate) fn new(inner: E) -> Self {
        Self {
            inner: tokio::sync::Mutex::new(inner),
            resources: Mutex::new(ModuleResources::new(&Resource::builder_empty().build())),
        }
    }
}

impl<E> fmt::Debug for PerModule<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PerModule").finish_non_exhaustive()
    }
}

impl<E: SpanExporter> SpanExporter for PerModule<E> {
    async fn export(&self, mut batch: Vec<SpanData>) -> OTelSdkResult {
        batch.iter_mut().for_each(crate::messages::expand);
        let groups = group_by_module(batch);
        let mut inner = self.inner.lock().await;
        let mut result = Ok(());
        for (module, spans) in groups {
            let resource = self
                .resources
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .resource(module.as_deref())
                .clone();
            inner.set_resource(&resource);
            for request in request_size::split(spans, MAX_REQUEST_BYTES) {
                if let Err(error) = inner.export(request).await {
                    result = Err(error);
                }
            }
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        // The batch processor shuts down after its last export: the lock is free.
        self.inner
            .try_lock()
            .map_or(Ok(()), |inner| inner.shutdown_with_timeout(timeout))
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner
            .try_lock()
            .map_or(Ok(()), |inner| inner.force_flush())
    }

    fn set_resource(&mut self, resource: &Resource) {
        *self.resources.get_mut().unwrap_or_else(|e| e.into_inner()) =
            ModuleResources::new(resource);
        self.inner.get_mut().set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use opentelemetry::trace::{Tracer, TracerProvider as _};
    use opentelemetry_sdk::trace::{SdkTracerProvider, SimpleSpanProcessor};

    /// One export: the resource's module and the span names.
    type Export = (String, Vec<String>);

    /// Records every export.
    #[derive(Debug, Clone, Default)]
    struct Recorder {
        resource: Option<Resource>,
        exports: Arc<Mutex<Vec<Export>>>,
    }

    impl SpanExporter for Recorder {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            let module = self
                .resource
                .as_ref()
                .and_then(|r| r.get(&AGENTO_MODULE.into()))
                .map(|v| v.to_string())
                .unwrap_or_default();
            let names = batch.iter().map(|s| s.name.to_string()).collect();
            self.exports
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((module, names));
            Ok(())
        }

        fn set_resource(&mut self, resource: &Resource) {
            self.resource = Some(resource.clone());
        }
    }

    #[test]
    fn each_span_leaves_under_its_modules_resource() {
        let recorder = Recorder::default();
        let exports = Arc::clone(&recorder.exports);
        let provider = SdkTracerProvider::builder()
            .with_resource(
                Resource::builder_empty()
                    .with_attribute(KeyValue::new(AGENTO_MODULE, "1_01"))
                    .build(),
            )
            .with_span_processor(SimpleSpanProcessor::new(PerModule::new(recorder)))
            .build();
        let first = provider.tracer_with_scope(crate::tracer::scope("1_01"));
        let last = provider.tracer_with_scope(crate::tracer::scope("2_Revise"));
        drop(first.start("root"));
        drop(last.start("revise"));
        drop(provider.tracer("plain").start("unscoped"));
        let exports = exports.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert_eq!(
            exports,
            vec![
                ("1_01".to_owned(), vec!["root".to_owned()]),
                ("2_Revise".to_owned(), vec!["revise".to_owned()]),
                ("1_01".to_owned(), vec!["unscoped".to_owned()]),
            ]
        );
    }

    #[test]
    fn a_module_replaces_only_agento_module() {
        let base = Resource::builder_empty()
            .with_attributes([
                KeyValue::new("service.name", "agento"),
                KeyValue::new(AGENTO_MODULE, "agento"),
            ])
            .build();
        let mut resources = ModuleResources::new(&base);
        let stage = resources.resource(Some("2_Revise-Plan-Stable")).clone();
        assert_eq!(
            stage.get(&AGENTO_MODULE.into()),
            Some(Value::from("2_Revise-Plan-Stable"))
        );
        assert_eq!(
            stage.get(&"service.name".into()),
            Some(Value::from("agento"))
        );
        assert_eq!(stage.len(), 2);
        assert_eq!(resources.resource(None), &base);
    }
}
