//! `#[llm_span]`: a CLIENT span with the gen_ai request attributes before the
//! call and the response (or error) attributes after it.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ItemFn;

use crate::args::LlmArgs;
use crate::expand::outcome::record_error;
use crate::function::{bind_result, facade, instrumented};

/// Checks `args` against the function (`model` is required, the function
/// returns `Result`).
pub(crate) fn validate(args: &LlmArgs, function: &ItemFn) -> syn::Result<()> {
    validate_common(args)?;
    if !crate::function::returns_result(function) {
        return Err(syn::Error::new(
            crate::function::return_span(function),
            "`#[llm_span]` goes on a function returning `Result<R, E>` with `R: agento::LlmResponse`, or a stream of chunks (see `#[llm_span(stream)]`): change the return type",
        ));
    }
    Ok(())
}

/// Checks the arguments every `#[llm_span]` needs (`system`, `model`).
pub(crate) fn validate_common(args: &LlmArgs) -> syn::Result<()> {
    if args.system.is_none() {
        return Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            "`#[llm_span]` needs the vendor: add `system = \"gemini\"` (or \"openai\", \"anthropic\", `other(\"provider\")`)",
        ));
    }
    if args.model.is_none() {
        return Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            "`#[llm_span]` needs the requested model: add `model = <expr>`, e.g. `model = \"gemini-2.5-pro\"` or `model = self.model.as_str()`",
        ));
    }
    Ok(())
}

/// The span name: `name`, or `llm.<system>.<fn name>`.
pub(crate) fn span_name(args: &LlmArgs, function: &ItemFn) -> String {
    args.name.as_ref().map_or_else(
        || {
            let system = args.system.as_ref().map_or("unknown", |s| s.name.as_str());
            format!("llm.{system}.{}", function.sig.ident)
        },
        syn::LitStr::value,
    )
}

/// Statements declaring the `static` spec of the call.
pub(crate) fn spec(args: &LlmArgs, function: &ItemFn, private: &TokenStream) -> TokenStream {
    let system = args.system.as_ref().map_or("unknown", |s| s.name.as_str());
    let operation = args
        .operation
        .as_ref()
        .map_or_else(|| "chat".to_owned(), syn::LitStr::value);
    let name = span_name(args, function);
    let step_type = args.step_type.as_ref().map_or_else(
        || quote!(::std::option::Option::None),
        |s| {
            let s = crate::args::step_type_str(s);
            quote!(::std::option::Option::Some(#s))
        },
    );
    quote! {
        static __AGENTO_LLM: #private::LlmSpec = #private::LlmSpec {
            system: #system,
            operation: #operation,
            span_name: #name,
            step_type: #step_type,
        };
    }
}

/// An expression starting the LLM span (request attributes evaluated here).
pub(crate) fn start_span(args: &LlmArgs, private: &TokenStream) -> TokenStream {
    let model = args.model.as_ref().map(|model| quote!(#model));
    let option = |value: Option<TokenStream>| {
        value.map_or_else(
            || quote!(::std::option::Option::None),
            |v| quote!(::std::option::Option::Some(#v)),
        )
    };
    let skip_prompt = args.skip.as_ref().is_some_and(|s| s.prompt);
    let temperature = args.temperature.as_ref().map_or_else(
        || quote!(::std::option::Option::None),
        |t| quote!(#private::Temperature::into_temperature(#t)),
    );
    let max_tokens = args.max_tokens.as_ref().map_or_else(
        || quote!(::std::option::Option::None),
        |t| quote!(#private::MaxTokens::into_max_tokens(#t)),
    );
    let prompt = option(
        args.prompt
            .as_ref()
            .filter(|_| !skip_prompt)
            .map(|p| quote!(::std::convert::AsRef::<str>::as_ref(&(#p)))),
    );
    let system_prompt = option(
        args.system_prompt
            .as_ref()
            .filter(|_| !skip_prompt)
            .map(|p| quote!(::std::convert::AsRef::<str>::as_ref(&(#p)))),
    );
    let step_name = option(
        args.step_name
            .as_ref()
            .map(|s| quote!(::std::convert::AsRef::<str>::as_ref(&(#s)))),
    );
    quote! {
        #private::SpanGuard::llm(&__AGENTO_LLM, &#private::LlmRequest {
            model: ::std::convert::AsRef::<str>::as_ref(&(#model)),
            temperature: #temperature,
            max_tokens: #max_tokens,
            prompt: #prompt,
            system_prompt: #system_prompt,
            step_name: #step_name,
        })
    }
}

/// Statements recording `__agento_result` on the LLM span `span`.
pub(crate) fn record(
    args: &LlmArgs,
    function: &ItemFn,
    private: &TokenStream,
    span: &TokenStream,
) -> TokenStream {
    let response_span = crate::function::return_span(function);
    let skip_response = args.skip.as_ref().is_some_and(|s| s.response);
    let on_ok = if skip_response {
        quote_spanned!(response_span=> #span.record_response_metadata(__agento_value);)
    } else {
        quote_spanned!(response_span=> #span.record_response(__agento_value);)
    };
    let on_err = record_error(private, span);
    quote! {
        match &__agento_result {
            ::std::result::Result::Ok(__agento_value) => { #on_ok }
            ::std::result::Result::Err(__agento_error) => { #on_err }
        }
    }
}

/// Generates the instrumented function.
pub(crate) fn expand(args: &LlmArgs, function: &ItemFn) -> syn::Result<TokenStream> {
    validate(args, function)?;
    let private = facade(args.krate.as_ref());
    let spec = spec(args, function, &private);
    let start = start_span(args, &private);
    let span = quote!(__agento_span);
    let run = bind_result(function, &private, &quote!(#span.context()), true);
    let record = record(args, function, &private, &span);
    Ok(instrumented(
        function,
        &quote! {
            #spec
            let #span = #start;
            #run
            #record
            __agento_result
        },
    ))
}
