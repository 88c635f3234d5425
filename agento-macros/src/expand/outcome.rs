//! Describing a failure for the span, shared by every expansion: an error
//! value, or a module's outcome.

use proc_macro2::TokenStream;
use quote::quote;

/// Statements recording `__agento_error` (a `&E`) on `span` through the
/// runtime's probes: `error.type` and Retry-After from `agento::ErrorInfo` when
/// `E` implements it, the message from `Display` when it has one.
pub(crate) fn report(private: &TokenStream) -> TokenStream {
    quote! {
        {
            #[allow(unused_imports)]
            use #private::probe::{MessageFallback as _, MessageViaDisplay as _, TypeFallback as _, TypeViaInfo as _};
            #private::probe::report(
                (&#private::probe::Probe(__agento_error)).error_type(),
                (&#private::probe::Probe(__agento_error)).error_message(),
                (&#private::probe::Probe(__agento_error)).retry_after(),
            )
        }
    }
}

/// Statements recording `__agento_error` on `span` (status ERROR, `error.type`,
/// exception event).
pub(crate) fn record_error(private: &TokenStream, span: &TokenStream) -> TokenStream {
    let report = report(private);
    quote! {
        let __agento_report = #report;
        #span.record_report(&__agento_report);
    }
}

/// An expression describing the failure of a module's outcome,
/// `__agento_result` (`Err`, or a failing `ExitCode`), through the runtime's
/// outcome probe: `Option<ErrorReport>`.
pub(crate) fn failure(private: &TokenStream) -> TokenStream {
    quote! {
        {
            #[allow(unused_imports)]
            use #private::outcome_probe::{ViaInfo as _, ViaOutcome as _};
            (&#private::outcome_probe::OutcomeProbe(&__agento_result)).failure()
        }
    }
}
