use agento::step;
#[step(fields(prompt))]
fn plan(goal: &str) -> usize { goal.len() }
fn main() { let _ = plan("x"); }
