use agento::agento_module;
#[agento_module(first, final)]
fn main() {}
