//! Exponential backoff with jitter, capped at [`MAX_DELAY`] (memo §4).
//!
//! ```
//! use std::time::Duration;
//! use agento_runtime::backoff::Backoff;
//! let backoff = Backoff::exponential(Duration::from_millis(100));
//! let third = backoff.delay(2, None);
//! assert!(third >= Duration::from_millis(400) && third < Duration::from_millis(410));
//! assert_eq!(Backoff::None.delay(5, None), Duration::ZERO);
//! ```

use std::time::Duration;

/// No delay is ever longer than this.
pub const MAX_DELAY: Duration = Duration::from_secs(60);

/// How long to wait before the next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    /// Retry at once (a server's Retry-After is still honoured).
    None,
    /// `base × 2^attempt` plus a jitter of up to `base / 10`, capped at [`MAX_DELAY`].
    Exponential {
        /// The delay after the first failure.
        base: Duration,
    },
}

impl Backoff {
    /// The memo's default: one second, doubling.
    pub const DEFAULT: Self = Self::Exponential {
        base: Duration::from_secs(1),
    };

    /// Exponential backoff starting at `base`.
    pub const fn exponential(base: Duration) -> Self {
        Self::Exponential { base }
    }

    /// The delay after failed attempt `attempt` (0-based). A `retry_after` asked
    /// for by the server wins when it is longer; the result never exceeds
    /// [`MAX_DELAY`].
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = agento_runtime::backoff::Backoff::exponential(Duration::from_secs(1));
    /// assert_eq!(b.delay(30, None), agento_runtime::backoff::MAX_DELAY);
    /// assert_eq!(b.delay(0, Some(Duration::from_secs(5))), Duration::from_secs(5));
    /// ```
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let computed = match *self {
            Self::None => Duration::ZERO,
            Self::Exponential { base } => {
                let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
                let jitter = base.mul_f64(fastrand::f64() * 0.1);
                base.saturating_mul(factor).saturating_add(jitter)
            }
        };
        computed
            .max(retry_after.unwrap_or(Duration::ZERO))
            .min(MAX_DELAY)
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_with_bounded_jitter() {
        let b = Backoff::exponential(Duration::from_millis(10));
        for attempt in 0..6 {
            let base = Duration::from_millis(10 * (1 << attempt));
            for _ in 0..50 {
                let d = b.delay(attempt, None);
                assert!(
                    d >= base && d < base + Duration::from_millis(1),
                    "{attempt}: {d:?}"
                );
            }
        }
    }

    #[test]
    fn capped_and_overflow_safe() {
        let b = Backoff::exponential(Duration::from_secs(1));
        assert_eq!(b.delay(6, None), MAX_DELAY);
        assert_eq!(b.delay(u32::MAX, None), MAX_DELAY);
        assert_eq!(b.delay(0, Some(Duration::from_secs(3600))), MAX_DELAY);
    }
}
