//! Credential shapes in a goal: an offline run whose goal holds one token of
//! each common family next to ordinary hyphenated words. In the archive every
//! token is replaced by `[REDACTED]` and the prose stays intact ("risk-" once
//! became "ri[REDACTED]", "bearer bonds" "bearer [REDACTED]").

mod support;
mod support_reliability;

use support::{Workdir, console, run};
use support_reliability::{archives_parse, offline};

#[test]
fn token_families_are_redacted_and_ordinary_words_are_not() {
    let github = format!("ghp_{}", "a1B2c3D4e5".repeat(4));
    let fine_grained = format!("github_pat_11ABCDEFG0_{}", "xYz123".repeat(10));
    let tokens = [
        github.as_str(),
        fine_grained.as_str(),
        "gho_Z9y8X7w6Z9y8X7w6Z9y8X7w6Z9y8X7w6",
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp",
        "AKIAIOSFODNN7EXAMPLE",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "sk-proj-AbC123xyz789DEF456ghi",
        "sk-ant-api03-AbC123xyz789DEF456ghi",
        "AIzaSyD-abcdefghijklmnopqrstuv012",
    ];
    let prose =
        "risk-assessment and task-management, a disk-based ask-me-anything desk, and bearer bonds";
    let goal = format!(
        "Open a bakery in Oakland. Consider {prose}. Keys: {}. Header: Authorization: Bearer abcdefghijklmnopqrst",
        tokens.join(" ")
    );
    let work = Workdir::new(&serde_json::json!({ "goal": goal }));
    let output = run(&mut offline(&work));
    assert!(output.status.success(), "{}", console(&output));
    let archived = archives_parse(&work);
    assert!(archived.contains(prose), "the prose was changed");
    for token in tokens {
        assert!(!archived.contains(token), "{token} reached the archive");
    }
    for shape in [
        "ghp_",
        "gho_",
        "github_pat_",
        "xoxb-",
        "AKIA",
        "eyJhbGci",
        "sk-proj-",
        "sk-ant-",
        "AIza",
        "abcdefghijklmnopqrst",
    ] {
        assert!(!archived.contains(shape), "{shape} reached the archive");
    }
    assert!(archived.contains("Authorization: Bearer [REDACTED]"));
    assert!(archived.matches("[REDACTED]").count() >= tokens.len());
}
