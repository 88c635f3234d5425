//! `agento`: run the pipeline (`run`), serve the offline vendor simulator
//! (`simulate`), look at trace archives (`trace`).

fn main() -> std::process::ExitCode {
    agento_pipeline::cli::main()
}
