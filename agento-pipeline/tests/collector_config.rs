//! `collector-config.yaml` is a working contrib-collector config: OTLP gRPC and
//! HTTP in, one file per run (grouped by `agento.run_id`), a UI exporter, a
//! batch processor, all wired into the traces pipeline.

use yaml_rust2::{Yaml, YamlLoader};

fn config() -> Yaml {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../collector-config.yaml");
    let text = std::fs::read_to_string(&path).expect("collector-config.yaml is readable");
    YamlLoader::load_from_str(&text)
        .expect("valid YAML")
        .remove(0)
}

fn names(list: &Yaml) -> Vec<String> {
    list.as_vec()
        .expect("a list")
        .iter()
        .filter_map(|y| y.as_str().map(str::to_owned))
        .collect()
}

#[test]
fn the_collector_config_has_every_part_the_run_archive_needs() {
    let config = config();
    let otlp = &config["receivers"]["otlp"]["protocols"];
    assert!(
        otlp["grpc"]["endpoint"]
            .as_str()
            .is_some_and(|e| e.ends_with(":4317"))
    );
    assert!(
        otlp["http"]["endpoint"]
            .as_str()
            .is_some_and(|e| e.ends_with(":4318"))
    );
    assert!(
        !config["processors"]["batch"].is_badvalue(),
        "a batch processor"
    );

    let exporters = config["exporters"].as_hash().expect("exporters");
    let (file_name, file) = exporters
        .iter()
        .find(|(name, _)| {
            name.as_str()
                .is_some_and(|n| n == "file" || n.starts_with("file/"))
        })
        .expect("a file exporter");
    let path = file["path"].as_str().expect("file path");
    assert!(path.starts_with("/data/"), "{path}");
    assert_eq!(
        path.matches('*').count(),
        1,
        "exactly one *, replaced by the run id: {path}"
    );
    assert!(!path.starts_with('*'), "{path}");
    assert!(
        !path.contains('%'),
        "the collector does not expand strftime patterns: {path}"
    );
    assert_eq!(file["append"].as_bool(), Some(true));
    for conflicting in ["rotation", "compression"] {
        assert!(
            file[conflicting].is_badvalue(),
            "the collector refuses append with {conflicting}"
        );
    }
    assert_eq!(file["group_by"]["enabled"].as_bool(), Some(true));
    assert_eq!(
        file["group_by"]["resource_attribute"].as_str(),
        Some("agento.run_id")
    );
    let (ui_name, ui) = exporters
        .iter()
        .find(|(name, _)| name.as_str().is_some_and(|n| n.starts_with("otlp")))
        .expect("an OTLP exporter to a UI");
    assert!(
        ui["endpoint"]
            .as_str()
            .is_some_and(|e| e.starts_with("http"))
    );

    let traces = &config["service"]["pipelines"]["traces"];
    assert_eq!(names(&traces["receivers"]), ["otlp"]);
    assert!(names(&traces["processors"]).contains(&"batch".to_owned()));
    let wired = names(&traces["exporters"]);
    for exporter in [file_name, ui_name] {
        let name = exporter.as_str().unwrap_or_default().to_owned();
        assert!(wired.contains(&name), "{name} in {wired:?}");
    }
}
