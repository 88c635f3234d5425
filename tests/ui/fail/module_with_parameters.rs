use agento::agento_module;
#[agento_module(name = "stage")]
fn main(goal: String) { let _ = goal; }
