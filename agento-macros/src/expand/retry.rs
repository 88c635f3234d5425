//! `#[retry_spans]`: a `<name>.with_retry` span with one `attempt_<n>` child
//! per try, and the sleeps between tries. Stacked above `#[llm_span]`, each
//! attempt span is the LLM span itself.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemFn;

use crate::args::{BackoffKind, LlmArgs, RetryArgs};
use crate::expand::{llm, outcome};
use crate::function::{bind_result, facade, instrumented};

/// Checks that the function can be retried: it returns `Result`.
pub(crate) fn check(function: &ItemFn) -> syn::Result<()> {
    if crate::function::returns_result(function) {
        return Ok(());
    }
    Err(syn::Error::new(
        crate::function::return_span(function),
        "`#[retry_spans]` retries on `Err`, so the function must return `Result<T, E>`: change the return type",
    ))
}

/// The `static __AGENTO_RETRY` spec of a retried function.
pub(crate) fn retry_spec(
    args: &RetryArgs,
    llm_args: Option<&LlmArgs>,
    function: &ItemFn,
    private: &TokenStream,
) -> TokenStream {
    let max = args.max.unwrap_or(3);
    let backoff = match (
        args.backoff.unwrap_or(BackoffKind::Exponential),
        args.base_ms,
    ) {
        (BackoffKind::None, _) => quote!(#private::Backoff::None),
        (BackoffKind::Exponential, None) => quote!(#private::Backoff::DEFAULT),
        (BackoffKind::Exponential, Some(ms)) => quote! {
            #private::Backoff::Exponential { base: ::std::time::Duration::from_millis(#ms) }
        },
    };
    let (span_name, system) = match llm_args {
        Some(llm_args) => (
            llm::span_name(llm_args, function),
            llm_args.system.as_ref().map(|s| s.name.clone()),
        ),
        None => (function.sig.ident.to_string(), None),
    };
    let span_name = format!("{span_name}.with_retry");
    let system = system.map_or_else(
        || quote!(::std::option::Option::None),
        |s| quote!(::std::option::Option::Some(#s)),
    );
    let attempt_spans = llm_args.is_none();
    quote! {
        static __AGENTO_RETRY: #private::RetrySpec = #private::RetrySpec {
            span_name: #span_name,
            kind: #private::SpanKind::Chain,
            system: #system,
            max_attempts: #max,
            backoff: #backoff,
            attempt_spans: #attempt_spans,
        };
    }
}

/// An expression telling whether `__agento_error` (a `&E`) is retried:
/// `retry_if`'s answer, or `true`.
pub(crate) fn retryable(args: &RetryArgs) -> TokenStream {
    args.retry_if
        .as_ref()
        .map_or_else(|| quote!(true), |path| quote!(#path(__agento_error)))
}

/// A statement starting the LLM span of an attempt, `__agento_llm_span`, in
/// the attempt's context (the span is the attempt span).
pub(crate) fn start_attempt_span(start: &TokenStream) -> TokenStream {
    quote! {
        let __agento_llm_span = {
            let __agento_attached = ::std::clone::Clone::clone(__agento_attempt.context()).attach();
            #start
        };
    }
}

/// A loop running the attempts of the driver `__agento_retry` until it is
/// done, evaluating to what the driver returns. `attempt` runs once per try
/// with `__agento_attempt` in scope and binds `__agento_result` and
/// `__agento_failure` (`Option<(ErrorReport, bool)>`: the failure and whether
/// to retry it); between tries the loop sleeps (`.await`s in an `async fn`).
pub(crate) fn attempts(
    function: &ItemFn,
    private: &TokenStream,
    attempt: &TokenStream,
) -> TokenStream {
    let sleep = if function.sig.asyncness.is_some() {
        quote!(#private::sleep(__agento_delay).await)
    } else {
        quote!(::std::thread::sleep(__agento_delay))
    };
    quote! {
        loop {
            let __agento_attempt = __agento_retry.begin_attempt();
            #attempt
            match __agento_retry.finish_attempt(__agento_attempt, __agento_result, __agento_failure) {
                #private::RetryStep::Done(__agento_result) => break __agento_result,
                #private::RetryStep::Wait(__agento_delay) => #sleep,
            }
        }
    }
}

/// What an attempt does around the body: statements starting its span, the
/// context the body runs in, and statements recording the result and ending
/// the span. Over `#[llm_span]` the attempt span is the LLM span, started
/// here; otherwise the driver opens it and these are empty.
fn attempt_span(
    llm_args: Option<&LlmArgs>,
    function: &ItemFn,
    private: &TokenStream,
) -> (TokenStream, TokenStream, TokenStream) {
    let Some(llm_args) = llm_args else {
        return (
            TokenStream::new(),
            quote!(__agento_attempt.context()),
            TokenStream::new(),
        );
    };
    let span = quote!(__agento_llm_span);
    let record = llm::record(llm_args, function, private, &span);
    (
        start_attempt_span(&llm::start_span(llm_args, private)),
        quote!(#span.context()),
        quote! {
            #record
            ::std::mem::drop(#span);
        },
    )
}

/// Generates the instrumented function. `llm_args` are those of an
/// `#[llm_span]` written directly below, which this expansion takes over.
pub(crate) fn expand(
    args: &RetryArgs,
    llm_args: Option<&LlmArgs>,
    function: &ItemFn,
) -> syn::Result<TokenStream> {
    check(function)?;
    if let Some(llm_args) = llm_args {
        if let Some(shape) = crate::expand::stream::detect(llm_args, function)? {
            return crate::expand::stream::expand_retry(args, llm_args, function, shape);
        }
        llm::validate(llm_args, function)?;
    }
    let private = facade(args.krate.as_ref());
    let retry_spec = retry_spec(args, llm_args, function, &private);
    let llm_spec = llm_args.map(|a| llm::spec(a, function, &private));
    let (start_llm, cx, record_llm) = attempt_span(llm_args, function, &private);
    let run = bind_result(function, &private, &cx, false);
    let report = outcome::report(&private);
    let retryable = retryable(args);
    let attempts = attempts(
        function,
        &private,
        &quote! {
            #start_llm
            #run
            #record_llm
            let __agento_failure = match &__agento_result {
                ::std::result::Result::Ok(_) => ::std::option::Option::None,
                ::std::result::Result::Err(__agento_error) => {
                    ::std::option::Option::Some((#report, #retryable))
                }
            };
        },
    );
    Ok(instrumented(
        function,
        &quote! {
            #retry_spec
            #llm_spec
            let mut __agento_retry = #private::Retry::start(&__AGENTO_RETRY);
            #attempts
        },
    ))
}
