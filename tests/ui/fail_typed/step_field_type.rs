use agento::step;
struct Plan;
#[step(fields(plan))]
fn review(plan: &Plan) -> bool { let _ = plan; true }
fn main() { let _ = review(&Plan); }
