//! [`StepField`]: how a function argument named in `#[step(fields(...))]` is
//! recorded, and the numeric conversions of `#[llm_span]`'s request arguments.

use std::borrow::Cow;

use opentelemetry::{Key, KeyValue};

use crate::span::text_attributes;

/// A value `#[step(fields(...))]` can record as a span attribute.
///
/// Texts are truncated per memo §4 (and scrubbed on export), integers become
/// `i64` (saturating), floats `f64`, `bool` stays `bool`; `Option` records
/// nothing for `None`; references record what they point at.
///
/// ```
/// use agento_runtime::StepField;
/// use opentelemetry::Key;
/// let mut out = Vec::new();
/// "Budget".record(Key::from_static_str("agento.step_name"), &mut out);
/// 3_u32.record(Key::from_static_str("agento.iterations"), &mut out);
/// assert_eq!(out.len(), 2);
/// ```
#[diagnostic::on_unimplemented(
    message = "`#[step(fields(...))]` cannot record a `{Self}`",
    note = "record a text, number, bool or `Option` of one, or implement `agento::StepField` for `{Self}`"
)]
pub trait StepField {
    /// Pushes the attribute(s) recording `self` under `key`.
    fn record(&self, key: Key, out: &mut Vec<KeyValue>);
}

impl StepField for str {
    fn record(&self, key: Key, out: &mut Vec<KeyValue>) {
        text_attributes(key, self, out);
    }
}

impl StepField for String {
    fn record(&self, key: Key, out: &mut Vec<KeyValue>) {
        text_attributes(key, self, out);
    }
}

impl StepField for Cow<'_, str> {
    fn record(&self, key: Key, out: &mut Vec<KeyValue>) {
        text_attributes(key, self, out);
    }
}

impl<T: StepField + ?Sized> StepField for &T {
    fn record(&self, key: Key, out: &mut Vec<KeyValue>) {
        (**self).record(key, out);
    }
}

impl<T: StepField + ?Sized> StepField for &mut T {
    fn record(&self, key: Key, out: &mut Vec<KeyValue>) {
        (**self).record(key, out);
    }
}

impl<T: StepField> StepField for Option<T> {
    fn record(&self, key: Key, out: &mut Vec<KeyValue>) {
        if let Some(value) = self {
            value.record(key, out);
        }
    }
}

impl StepField for bool {
    fn record(&self, key: Key, out: &mut Vec<KeyValue>) {
        out.push(KeyValue::new(key, *self));
    }
}

macro_rules! integer_fields {
    ($($ty:ty),*) => {$(
        impl StepField for $ty {
            fn record(&self, key: Key, out: &mut Vec<KeyValue>) {
                out.push(KeyValue::new(key, i64::try_from(*self).unwrap_or(i64::MAX)));
            }
        }
        impl MaxTokens for $ty {
            fn into_max_tokens(self) -> Option<i64> {
                Some(i64::try_from(self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
integer_fields!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl StepField for f32 {
    fn record(&self, key: Key, out: &mut Vec<KeyValue>) {
        out.push(KeyValue::new(key, f64::from(*self)));
    }
}

impl StepField for f64 {
    fn record(&self, key: Key, out: &mut Vec<KeyValue>) {
        out.push(KeyValue::new(key, *self));
    }
}

/// A value `#[llm_span(temperature = ...)]` accepts: `f32`, `f64`, or an
/// `Option` of one (`None` records no temperature).
///
/// ```
/// use agento_runtime::__private::Temperature;
/// assert_eq!(0.5_f32.into_temperature(), Some(0.5));
/// assert_eq!(None::<f64>.into_temperature(), None);
/// ```
#[diagnostic::on_unimplemented(
    message = "`temperature = ...` takes an `f32`, `f64` or `Option` of one, not `{Self}`"
)]
pub trait Temperature {
    /// The value as `f64`, when set.
    fn into_temperature(self) -> Option<f64>;
}

impl Temperature for f64 {
    fn into_temperature(self) -> Option<f64> {
        Some(self)
    }
}

impl Temperature for f32 {
    fn into_temperature(self) -> Option<f64> {
        Some(f64::from(self))
    }
}

impl<T: Temperature> Temperature for Option<T> {
    fn into_temperature(self) -> Option<f64> {
        self.and_then(Temperature::into_temperature)
    }
}

/// A value `#[llm_span(max_tokens = ...)]` accepts: any integer (saturating
/// into `i64`), or an `Option` of one (`None` records no limit).
///
/// ```
/// use agento_runtime::__private::MaxTokens;
/// assert_eq!(4096_u32.into_max_tokens(), Some(4096));
/// ```
#[diagnostic::on_unimplemented(
    message = "`max_tokens = ...` takes an integer or an `Option` of one, not `{Self}`"
)]
pub trait MaxTokens {
    /// The value as `i64`, when set.
    fn into_max_tokens(self) -> Option<i64>;
}

impl<T: MaxTokens> MaxTokens for Option<T> {
    fn into_max_tokens(self) -> Option<i64> {
        self.and_then(MaxTokens::into_max_tokens)
    }
}
