//! The verdict of the revise loop, parsed strictly: `YES` or `NO` must be the
//! first word (case-insensitive); anything else counts as `NO` and is
//! recorded as unparseable. (The Python version used a substring test, so
//! "NO, not yet" could pass as a yes.)

/// A parsed verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The revision is accepted.
    Yes,
    /// The revision is rejected.
    No,
    /// Neither YES nor NO came first: treated as NO.
    Unparseable,
}

impl Verdict {
    /// Parses a verdict reply.
    ///
    /// ```
    /// use agento_pipeline::verdict::Verdict;
    /// assert_eq!(Verdict::parse("yes, it meets the criteria"), Verdict::Yes);
    /// assert_eq!(Verdict::parse("NO - still vague"), Verdict::No);
    /// assert_eq!(Verdict::parse("I would say yes"), Verdict::Unparseable);
    /// assert_eq!(Verdict::parse("Yesterday's draft"), Verdict::Unparseable);
    /// ```
    pub fn parse(reply: &str) -> Self {
        let trimmed = reply.trim_start_matches(|c: char| {
            c.is_whitespace() || matches!(c, '*' | '#' | '"' | '\'' | '`' | '>')
        });
        let word: String = trimmed
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect();
        match word.to_ascii_uppercase().as_str() {
            "YES" => Self::Yes,
            "NO" => Self::No,
            _ => Self::Unparseable,
        }
    }

    /// Whether the revision is accepted.
    pub const fn accepted(self) -> bool {
        matches!(self, Self::Yes)
    }

    /// The value recorded as `agento.verdict`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Yes => "yes",
            Self::No => "no",
            Self::Unparseable => "unparseable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Verdict;

    #[test]
    fn only_the_first_word_counts() {
        for (reply, verdict) in [
            ("YES", Verdict::Yes),
            ("  **Yes.** Good.", Verdict::Yes),
            ("no", Verdict::No),
            ("No, not yet", Verdict::No),
            ("NOT sure", Verdict::Unparseable),
            ("The answer is YES", Verdict::Unparseable),
            ("", Verdict::Unparseable),
            ("YESNO", Verdict::Unparseable),
        ] {
            assert_eq!(Verdict::parse(reply), verdict, "{reply:?}");
        }
    }

    #[test]
    fn only_yes_is_accepted() {
        assert!(Verdict::Yes.accepted());
        assert!(!Verdict::No.accepted());
        assert!(!Verdict::Unparseable.accepted(), "anything but YES is NO");
        for reply in ["I would say YES", "Maybe", "", "Yesterday's draft is fine"] {
            assert!(!Verdict::parse(reply).accepted(), "{reply:?}");
        }
    }
}
