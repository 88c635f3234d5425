use agento::step;
#[step(kind = LLM)]
fn plan() {}
fn main() { plan(); }
