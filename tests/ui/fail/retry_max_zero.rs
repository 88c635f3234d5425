use agento::retry_spans;
#[retry_spans(max = 0)]
fn call() -> Result<u32, std::fmt::Error> { Ok(1) }
fn main() { let _ = call(); }
