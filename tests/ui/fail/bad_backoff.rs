use agento::retry_spans;
#[retry_spans(backoff = "linear")]
fn call() -> Result<u32, std::fmt::Error> { Ok(1) }
fn main() { let _ = call(); }
