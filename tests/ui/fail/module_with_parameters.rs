use agento::agento_module;
#[agento_module(name = "stage")]
fn run(goal: &str) -> Result<(), std::fmt::Error> { let _ = goal; Ok(()) }
fn main() {}
