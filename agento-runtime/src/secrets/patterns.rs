//! The shapes of well-known credentials, matched on word boundaries.
//!
//! Each family starts at an ASCII word boundary, so a shape never matches in
//! the middle of a word ("risk-assessment" holds no `sk-` key,
//! "task-management" neither). A bare `Bearer <token>` counts only when the
//! token holds a digit ("bearer bonds" is prose); after an `Authorization:`
//! header name any token counts.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex};

use super::REDACTED;

/// The credential families, one alternative each. Named groups mark a prefix
/// that is kept (`auth`, `bearer`) and a token that must hold a digit (`weak`).
const FAMILIES: &[&str] = &[
    // An `Authorization: Bearer …` (or `Proxy-Authorization`) header: any token.
    r"(?P<auth>(?i:(?-u:\b)(?:proxy-)?authorization\s*[:=]\s*bearer\s+))[A-Za-z0-9._~+/\-]+=*",
    // A bare `Bearer <token>`: only a token with a digit (see `weak`).
    r"(?P<bearer>(?i:(?-u:\b)bearer\s+))(?P<weak>[A-Za-z0-9._~+/\-]{8,}=*)",
    // JSON Web Tokens: header.payload.signature, both first parts base64url JSON.
    r"(?-u:\b)eyJ[A-Za-z0-9_\-]{4,}\.eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*",
    // OpenAI (`sk-`, `sk-proj-`, `sk-svcacct-`) and Anthropic (`sk-ant-`).
    r"(?-u:\b)sk-[A-Za-z0-9_\-]{16,}",
    // Google API keys.
    r"(?-u:\b)AIza[0-9A-Za-z_\-]{20,}",
    // GitHub tokens: personal, OAuth, user-to-server, server-to-server, refresh.
    r"(?-u:\b)gh[pousr]_[A-Za-z0-9]{20,}",
    // GitHub fine-grained personal access tokens.
    r"(?-u:\b)github_pat_[A-Za-z0-9_]{20,}",
    // Slack bot, user, app, refresh and workspace tokens.
    r"(?-u:\b)xox[abprs]-[A-Za-z0-9\-]{10,}",
    // AWS access key ids (long-term and temporary).
    r"(?-u:\b)(?:AKIA|ASIA)[0-9A-Z]{16}(?-u:\b)",
];

static SHAPES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&FAMILIES.join("|")).expect("the credential families are a valid regex")
});

/// The replacement of one match: the kept prefix and [`REDACTED`], or the match
/// itself when it is a bare bearer phrase without a digit.
fn replacement(caps: &Captures<'_>) -> String {
    if let Some(token) = caps.name("weak")
        && !token.as_str().bytes().any(|b| b.is_ascii_digit())
    {
        return caps[0].to_owned();
    }
    let prefix = caps
        .name("auth")
        .or_else(|| caps.name("bearer"))
        .map_or("", |m| m.as_str());
    format!("{prefix}{REDACTED}")
}

/// Replaces every credential shape in `text`.
pub(super) fn scrub_shapes(text: &str) -> Cow<'_, str> {
    match SHAPES.replace_all(text, replacement) {
        // Only rejected bearer phrases matched: the text is unchanged.
        Cow::Owned(same) if same == text => Cow::Borrowed(text),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(text: &str) -> String {
        scrub_shapes(text).into_owned()
    }

    #[test]
    fn each_family_is_replaced() {
        let github = format!("ghp_{}", "a1B2c3D4e5".repeat(4));
        let oauth = format!("gho_{}", "Z9y8X7w6".repeat(5));
        let fine = format!("github_pat_11ABCDEFG0_{}", "xYz123".repeat(10));
        let slack = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp";
        let aws = "AKIAIOSFODNN7EXAMPLE";
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        for (label, secret) in [
            ("openai", "sk-proj-AbC123_xyz-789def"),
            ("openai legacy", "sk-AbCdEfGhIjKlMnOpQrStUvWx12345678"),
            ("anthropic", "sk-ant-api03-abcdefghij0123"),
            ("google", "AIzaSyD-abcdefghijklmnopqrstuv"),
            ("github", github.as_str()),
            ("github oauth", oauth.as_str()),
            ("github fine-grained", fine.as_str()),
            ("slack", slack),
            ("aws", aws),
            ("jwt", jwt),
        ] {
            assert_eq!(clean(&format!("x {secret} y")), "x [REDACTED] y", "{label}");
            assert_eq!(clean(&format!("({secret})")), "([REDACTED])", "{label}");
        }
    }

    #[test]
    fn bearer_tokens_in_headers_and_with_digits() {
        assert_eq!(
            clean("Authorization: Bearer abcdefghijklmnop"),
            "Authorization: Bearer [REDACTED]"
        );
        assert_eq!(
            clean("authorization: bearer tok_12345"),
            "authorization: bearer [REDACTED]"
        );
        assert_eq!(
            clean("curl -H 'Bearer a1b2c3d4e5f6g7'"),
            "curl -H 'Bearer [REDACTED]'"
        );
    }

    #[test]
    fn ordinary_words_are_untouched() {
        for text in [
            "risk-assessment and task-management of bearer bonds",
            "a disk-based mask-wearing whisk-shaped task-force-management-plan",
            "the bearer instruments and the Bearer of good news",
            "ask-me-anything-about-the-long-road",
            "sk-short",
            "AIza",
            "ghp_short",
            "AKIAshort and XAKIAIOSFODNN7EXAMPLE",
            "eyJ alone",
        ] {
            assert!(
                matches!(scrub_shapes(text), Cow::Borrowed(_)),
                "{text}: {}",
                clean(text)
            );
        }
    }
}
