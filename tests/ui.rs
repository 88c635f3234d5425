//! Compile-time behaviour of the macros: what they accept (`ui/pass`) and the
//! errors they give for misuse (`ui/fail`: argument errors, reported with and
//! without the `enabled` feature; `ui/fail_typed`: type errors in generated
//! code, which only `enabled` generates). The expected messages are the
//! `.stderr` files; regenerate them with `TRYBUILD=overwrite`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
    if cfg!(feature = "enabled") {
        cases.compile_fail("tests/ui/fail_typed/*.rs");
    }
}
