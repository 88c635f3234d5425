//! Reading configuration variables without ever failing: each reader returns
//! the value, or the default together with one warning that names the variable
//! and says what it accepts.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::str::FromStr;

/// Reads variables through a lookup function and collects the warnings.
pub struct EnvReader<F> {
    lookup: F,
    warnings: Vec<String>,
}

impl<F> std::fmt::Debug for EnvReader<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvReader")
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

impl<F: Fn(&str) -> Option<String>> EnvReader<F> {
    /// A reader over `lookup` (`|name| std::env::var(name).ok()` for the
    /// process environment).
    pub fn new(lookup: F) -> Self {
        Self {
            lookup,
            warnings: Vec::new(),
        }
    }

    /// The value of `name`, trimmed; `None` when unset or blank.
    pub fn text(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    /// A whole number within `range`; `default` (with a warning) for anything
    /// else: text, fractions, exponents, out-of-range values.
    pub fn number<T>(&mut self, name: &str, range: RangeInclusive<T>, default: T) -> T
    where
        T: FromStr + PartialOrd + Display + Copy,
    {
        let Some(value) = self.text(name) else {
            return default;
        };
        match value.parse::<T>() {
            Ok(number) if range.contains(&number) => number,
            _ => {
                self.warn(format!(
                    "{name}={value} is not a whole number from {} to {}; using {default}",
                    range.start(),
                    range.end()
                ));
                default
            }
        }
    }

    /// A boolean: `true` or `false` in any case (the OpenTelemetry rule);
    /// `default` (with a warning) for anything else.
    pub fn flag(&mut self, name: &str, default: bool) -> bool {
        self.choice_named(
            name,
            &[("true", true), ("false", false)],
            default,
            "true or false",
        )
    }

    /// One of `accepted` (compared without case); `default` (with a warning
    /// that lists the accepted values) for anything else.
    pub fn choice<T: Copy + PartialEq>(
        &mut self,
        name: &str,
        accepted: &[(&str, T)],
        default: T,
    ) -> T {
        let names: Vec<&str> = accepted.iter().map(|(text, _)| *text).collect();
        let listed = match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => names.join(""),
        };
        self.choice_named(name, accepted, default, &listed)
    }

    fn choice_named<T: Copy + PartialEq>(
        &mut self,
        name: &str,
        accepted: &[(&str, T)],
        default: T,
        listed: &str,
    ) -> T {
        let Some(value) = self.text(name) else {
            return default;
        };
        if let Some((_, chosen)) = accepted
            .iter()
            .find(|(text, _)| text.eq_ignore_ascii_case(&value))
        {
            return *chosen;
        }
        let fallback = accepted
            .iter()
            .find(|(_, v)| *v == default)
            .map_or("the default", |(text, _)| *text);
        self.warn(format!("{name}={value} is not {listed}; using {fallback}"));
        default
    }

    /// Adds a warning of the caller's own.
    pub fn warn(&mut self, message: String) {
        if !self.warnings.contains(&message) {
            self.warnings.push(message);
        }
    }

    /// The warnings, each once, in the order they arose.
    pub fn into_warnings(self) -> Vec<String> {
        self.warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_values_or_defaults_with_one_warning_each() {
        let mut env = EnvReader::new(|name| match name {
            "RETRIES" => Some("1e300".to_owned()),
            "VERBOSE" => Some("yes".to_owned()),
            "COLOR" => Some("Blue".to_owned()),
            _ => None,
        });
        assert_eq!(env.number("RETRIES", 0..=10_u32, 3), 3);
        assert!(!env.flag("VERBOSE", false));
        assert_eq!(env.choice("COLOR", &[("red", 1), ("blue", 2)], 1), 2);
        assert_eq!(env.number("UNSET", 0..=10_u32, 3), 3);
        let warnings = env.into_warnings();
        assert_eq!(warnings.len(), 2);
        assert!(warnings[0].starts_with("RETRIES=1e300 is not a whole number from 0 to 10"));
        assert!(warnings[1].starts_with("VERBOSE=yes is not true or false"));
    }
}
