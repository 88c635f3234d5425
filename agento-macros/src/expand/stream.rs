//! `#[llm_span]` on a streaming call: the span is moved into the stream the
//! function returns and ends with it (see `agento_runtime::stream`).
//!
//! A function streams when its return type is one of
//!
//! - `impl Stream<Item = Result<C, E2>>` (any path ending in `Stream`),
//! - `Pin<Box<dyn Stream<Item = Result<C, E2>> ...>>` or `BoxStream<'_, Result<C, E2>>`,
//! - `Result<S, E>` with `S` one of the above;
//!
//! or when `stream` is among the arguments, which then requires one of these
//! shapes. `C` implements `agento::LlmChunk`. Stacked under `#[retry_spans]`,
//! the function must be `async` and return `Result`: an attempt is retried when
//! the call fails or the stream's first item is an `Err`, never after a chunk.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{GenericArgument, ItemFn, PathArguments, ReturnType, Type, TypeParamBound};

use crate::args::{LlmArgs, RetryArgs};
use crate::expand::{llm, outcome, retry};
use crate::function::{bind_result, facade, instrumented};

/// How the returned stream is written.
#[derive(Clone, Copy)]
enum Wrap {
    /// `impl Stream<..>`: the instrumented stream is returned as is.
    Impl,
    /// `Pin<Box<dyn Stream<..>>>` or `BoxStream`: it is boxed again.
    Boxed,
}

/// The streaming shape of a function's return type.
#[derive(Clone)]
pub(crate) struct Shape {
    fallible: bool,
    wrap: Wrap,
    /// The stream's `Item` type as written, when it is written.
    item: Option<Type>,
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        _ => None,
    }
}

fn first_type_argument(segment: &syn::PathSegment) -> Option<&Type> {
    let PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    args.args.iter().find_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    })
}

/// The `Stream` bound among `bounds`: `Some(item)` when there is one, with
/// its `Item = ...` type when written.
fn stream_bound<'a>(bounds: impl IntoIterator<Item = &'a TypeParamBound>) -> Option<Option<Type>> {
    bounds.into_iter().find_map(|bound| {
        let TypeParamBound::Trait(t) = bound else {
            return None;
        };
        let segment = t.path.segments.last().filter(|s| s.ident == "Stream")?;
        let item = match &segment.arguments {
            PathArguments::AngleBracketed(args) => args.args.iter().find_map(|arg| match arg {
                GenericArgument::AssocType(assoc) if assoc.ident == "Item" => {
                    Some(assoc.ty.clone())
                }
                _ => None,
            }),
            _ => None,
        };
        Some(item)
    })
}

fn stream_wrap(ty: &Type) -> Option<(Wrap, Option<Type>)> {
    if let Type::ImplTrait(imp) = ty {
        return stream_bound(&imp.bounds).map(|item| (Wrap::Impl, item));
    }
    let segment = last_segment(ty)?;
    if segment.ident == "BoxStream" || segment.ident == "LocalBoxStream" {
        return Some((Wrap::Boxed, first_type_argument(segment).cloned()));
    }
    if segment.ident != "Pin" {
        return None;
    }
    let boxed = last_segment(first_type_argument(segment)?)?;
    if boxed.ident != "Box" {
        return None;
    }
    match first_type_argument(boxed)? {
        Type::TraitObject(object) => stream_bound(&object.bounds).map(|item| (Wrap::Boxed, item)),
        _ => None,
    }
}

fn shape_of(function: &ItemFn) -> Option<Shape> {
    let ReturnType::Type(_, ty) = &function.sig.output else {
        return None;
    };
    if let Some((wrap, item)) = stream_wrap(ty) {
        return Some(Shape {
            fallible: false,
            wrap,
            item,
        });
    }
    let segment = last_segment(ty)?;
    if segment.ident != "Result" {
        return None;
    }
    stream_wrap(first_type_argument(segment)?).map(|(wrap, item)| Shape {
        fallible: true,
        wrap,
        item,
    })
}

/// With `stream`, a return type named by a path (`ChunkStream` or
/// `Result<ChunkStream, E>`) is taken for an alias of
/// `Pin<Box<dyn Stream<..>>>`: the instrumented stream is boxed again and the
/// item type is the alias's `Stream::Item`.
fn alias_shape(args: &LlmArgs, function: &ItemFn) -> Option<Shape> {
    let ReturnType::Type(_, ty) = &function.sig.output else {
        return None;
    };
    let segment = last_segment(ty)?;
    let (fallible, stream) = if segment.ident == "Result" {
        (true, first_type_argument(segment)?)
    } else {
        (false, &**ty)
    };
    last_segment(stream)?;
    let private = facade(args.krate.as_ref());
    Some(Shape {
        fallible,
        wrap: Wrap::Boxed,
        item: Some(syn::parse_quote!(<#stream as #private::Stream>::Item)),
    })
}

/// The streaming shape of `function`, if it streams; an error when `stream`
/// was given for a return type it cannot instrument.
pub(crate) fn detect(args: &LlmArgs, function: &ItemFn) -> syn::Result<Option<Shape>> {
    let shape =
        shape_of(function).or_else(|| args.stream.and_then(|_| alias_shape(args, function)));
    if shape.is_none()
        && let Some(span) = args.stream
    {
        let mut error = syn::Error::new(
            crate::function::return_span(function),
            "`#[llm_span(stream)]` moves the span into the stream the function returns, so it must return `impl Stream<Item = Result<C, E>>`, `Result<impl Stream<Item = Result<C, E>>, E>` or `Pin<Box<dyn Stream<Item = Result<C, E>> + Send>>` with `C: agento::LlmChunk`: change the return type",
        );
        error.combine(syn::Error::new(span, "`stream` given here"));
        return Err(error);
    }
    if let Some(shape) = &shape
        && shape.item.is_none()
    {
        return Err(syn::Error::new(
            crate::function::return_span(function),
            "`#[llm_span]` records the stream's items, so write their type in the return type: `Stream<Item = Result<C, E>>` with `C: agento::LlmChunk`",
        ));
    }
    Ok(shape)
}

/// A closure turning a `&Item` into the `ErrorReport` of its error (`None`
/// for a chunk). It names the item type as written, so that the error probes
/// see the concrete error type.
fn report_closure(private: &TokenStream, shape: &Shape) -> TokenStream {
    let report = outcome::report(private);
    let item = shape
        .item
        .as_ref()
        .map_or_else(|| quote!(_), |item| quote!(#item));
    quote! {
        |__agento_item: &#item| match __agento_item {
            ::std::result::Result::Err(__agento_error) => ::std::option::Option::Some(#report),
            ::std::result::Result::Ok(_) => ::std::option::Option::None,
        }
    }
}

fn wrap(shape: &Shape, expr: &TokenStream) -> TokenStream {
    match shape.wrap {
        Wrap::Impl => quote!(#expr),
        Wrap::Boxed => quote!(::std::boxed::Box::pin(#expr)),
    }
}

/// Statements starting the LLM span `span` with `start` (a statement binding
/// it), marked as streaming, and the clock of its time to first chunk.
fn start_streaming(private: &TokenStream, start: &TokenStream, span: &TokenStream) -> TokenStream {
    quote! {
        let __agento_started = ::std::time::Instant::now();
        #start
        #private::mark_streaming(&#span);
    }
}

/// An expression: the stream `__agento_stream` carrying the LLM span `span`,
/// which ends with it; `report` turns an item into its error report.
fn llm_stream(
    private: &TokenStream,
    args: &LlmArgs,
    span: &TokenStream,
    report: &TokenStream,
) -> TokenStream {
    let content = !args.skip.as_ref().is_some_and(|s| s.response);
    quote! {
        #private::LlmStream::new(__agento_stream, #span, __agento_started, #content, #report)
    }
}

/// Statements recording the call's error, `__agento_error_value`, on `span`.
fn record_call_error(private: &TokenStream, span: &TokenStream) -> TokenStream {
    let on_err = outcome::record_error(private, span);
    quote! {
        let __agento_error = &__agento_error_value;
        #on_err
    }
}

/// Generates the instrumented streaming function.
pub(crate) fn expand(args: &LlmArgs, function: &ItemFn, shape: Shape) -> syn::Result<TokenStream> {
    llm::validate_common(args)?;
    let private = facade(args.krate.as_ref());
    let spec = llm::spec(args, function, &private);
    let span = quote!(__agento_span);
    let start_span = llm::start_span(args, &private);
    let start = start_streaming(&private, &quote!(let #span = #start_span;), &span);
    let run = bind_result(function, &private, &quote!(#span.context()), true);
    let instrumented_stream = wrap(
        &shape,
        &llm_stream(&private, args, &span, &report_closure(&private, &shape)),
    );
    let finish = if shape.fallible {
        let on_err = record_call_error(&private, &span);
        quote! {
            match __agento_result {
                ::std::result::Result::Ok(__agento_stream) => ::std::result::Result::Ok(#instrumented_stream),
                ::std::result::Result::Err(__agento_error_value) => {
                    #on_err
                    ::std::result::Result::Err(__agento_error_value)
                }
            }
        }
    } else {
        quote! {
            let __agento_stream = __agento_result;
            #instrumented_stream
        }
    };
    Ok(instrumented(
        function,
        &quote! {
            #spec
            #start
            #run
            #finish
        },
    ))
}

/// Checks that a streaming function can be retried: `async` (the first chunk
/// is awaited) and returning `Result`.
fn check_retry(function: &ItemFn, shape: &Shape) -> syn::Result<()> {
    if function.sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(
            function.sig.fn_token,
            "`#[retry_spans]` over a streaming `#[llm_span]` waits for the first chunk before it decides to retry, so the function must be `async fn`",
        ));
    }
    if !shape.fallible {
        return Err(syn::Error::new(
            crate::function::return_span(function),
            "`#[retry_spans]` retries on `Err`, so a streaming function must return `Result<impl Stream<Item = Result<C, E>>, E>`: change the return type",
        ));
    }
    Ok(())
}

/// Statements of one attempt of a retried streaming call: they bind
/// `__agento_result` (the stream with its first item peeked, or the error)
/// and `__agento_failure` (an `Err` from the call or as the first item).
fn stream_attempt(
    retry: &RetryArgs,
    args: &LlmArgs,
    function: &ItemFn,
    shape: &Shape,
    private: &TokenStream,
) -> TokenStream {
    let span = quote!(__agento_llm_span);
    let start = start_streaming(
        private,
        &retry::start_attempt_span(&llm::start_span(args, private)),
        &span,
    );
    let run = bind_result(function, private, &quote!(#span.context()), false);
    let report_item = report_closure(private, shape);
    let first_failure = first_item_failure(retry);
    let stream = llm_stream(private, args, &span, &quote!(__agento_report_item));
    let retryable = retry::retryable(retry);
    let on_err = record_call_error(private, &span);
    quote! {
        #start
        #run
        let __agento_report_item = #report_item;
        let (__agento_result, __agento_failure) = match __agento_result {
            ::std::result::Result::Ok(__agento_stream) => {
                let __agento_peeked = #private::Peeked::first(::std::boxed::Box::pin(#stream)).await;
                let __agento_failure = #first_failure;
                (::std::result::Result::Ok(__agento_peeked), __agento_failure)
            }
            ::std::result::Result::Err(__agento_error_value) => {
                #on_err
                ::std::mem::drop(#span);
                let __agento_retryable = #retryable;
                (
                    ::std::result::Result::Err(__agento_error_value),
                    ::std::option::Option::Some((__agento_report, __agento_retryable)),
                )
            }
        };
    }
}

/// An expression: the failure of a stream whose first item (in
/// `__agento_peeked`) is an `Err`, with whether to retry it; `None` for a
/// chunk or an empty stream.
fn first_item_failure(retry: &RetryArgs) -> TokenStream {
    let retryable = retry::retryable(retry);
    let error_binding = if retry.retry_if.is_some() {
        quote!(__agento_error)
    } else {
        quote!(_)
    };
    quote! {
        match __agento_peeked.first_item() {
            ::std::option::Option::Some(__agento_item) => {
                __agento_report_item(__agento_item).map(|__agento_report| {
                    let __agento_retryable = match __agento_item {
                        ::std::result::Result::Err(#error_binding) => #retryable,
                        ::std::result::Result::Ok(_) => false,
                    };
                    (__agento_report, __agento_retryable)
                })
            }
            ::std::option::Option::None => ::std::option::Option::None,
        }
    }
}

/// Generates a retried streaming function (`#[retry_spans]` above): each
/// attempt waits for the first item; an `Err` there (or from the call) is
/// retried like any failure, a stream that yielded a chunk is returned.
pub(crate) fn expand_retry(
    retry: &RetryArgs,
    args: &LlmArgs,
    function: &ItemFn,
    shape: Shape,
) -> syn::Result<TokenStream> {
    llm::validate_common(args)?;
    check_retry(function, &shape)?;
    let private = facade(retry.krate.as_ref().or(args.krate.as_ref()));
    let retry_spec = retry::retry_spec(retry, Some(args), function, &private);
    let spec = llm::spec(args, function, &private);
    let attempts = retry::attempts(
        function,
        &private,
        &stream_attempt(retry, args, function, &shape, &private),
    );
    let returned = wrap(&shape, &quote!(__agento_peeked.keep(__agento_retry)));
    Ok(instrumented(
        function,
        &quote! {
            #retry_spec
            #spec
            let mut __agento_retry = #private::Retry::start(&__AGENTO_RETRY);
            let __agento_outcome = #attempts;
            match __agento_outcome {
                ::std::result::Result::Ok(__agento_peeked) => ::std::result::Result::Ok(#returned),
                ::std::result::Result::Err(__agento_error) => ::std::result::Result::Err(__agento_error),
            }
        },
    ))
}
