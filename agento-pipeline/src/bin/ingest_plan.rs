//! A stage binary of the Agento pipeline; see `agento_pipeline::stages`.

fn main() -> std::process::ExitCode {
    agento_pipeline::cli::run_stage(agento_pipeline::cli::Which::Ingest)
}
