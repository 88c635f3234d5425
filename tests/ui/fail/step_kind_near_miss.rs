use agento::step;
#[step(kind = chain)]
fn plan() {}
fn main() { plan(); }
