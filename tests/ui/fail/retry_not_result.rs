use agento::retry_spans;
#[retry_spans(max = 3)]
fn call() -> u32 { 1 }
fn main() { let _ = call(); }
