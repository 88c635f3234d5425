//! The resource of a module's spans and metrics.

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::resource::EnvResourceDetector;

use crate::attributes::{AGENTO_MODULE, AGENTO_RUN_ID, OPENINFERENCE_PROJECT_NAME};
use crate::config::Config;
use crate::run::RunId;

/// The service, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_SERVICE_NAME`, then the
/// module and the run (which nothing in the environment overrides).
pub(super) fn build(config: &Config, module: &str, run_id: &RunId) -> Resource {
    let mut builder = Resource::builder_empty()
        .with_attributes([
            KeyValue::new("service.name", "agento"),
            KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
            KeyValue::new("deployment.environment", config.environment.clone()),
            KeyValue::new("service.instance.id", uuid::Uuid::new_v4().to_string()),
            KeyValue::new(OPENINFERENCE_PROJECT_NAME, "agento"),
        ])
        .with_detector(Box::new(EnvResourceDetector::new()));
    if let Ok(service) = std::env::var("OTEL_SERVICE_NAME")
        && !service.trim().is_empty()
    {
        builder = builder.with_attribute(KeyValue::new("service.name", service));
    }
    let resource = builder
        .with_attributes([
            KeyValue::new(AGENTO_MODULE, module.to_owned()),
            KeyValue::new(AGENTO_RUN_ID, run_id.as_str().to_owned()),
        ])
        .build();
    // `OTEL_RESOURCE_ATTRIBUTES='=x'` gives a key-less attribute (the
    // configuration warned about it): leave it out.
    Resource::builder_empty()
        .with_attributes(
            resource
                .iter()
                .filter(|(key, _)| !key.as_str().trim().is_empty())
                .map(|(key, value)| KeyValue::new(key.clone(), value.clone())),
        )
        .build()
}
