use std::future::Future;
use std::pin::Pin;

use agento::step;

#[step(fields(goal))]
fn plan(goal: String) -> Pin<Box<dyn Future<Output = Result<String, std::io::Error>> + Send>> {
    let goal = goal.trim().to_owned();
    Box::pin(async move { Ok(goal) })
}

fn main() {
    let _ = plan("bakery".to_owned());
}
