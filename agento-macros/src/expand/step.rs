//! `#[step]`: a semantic workflow step (memo §6) with chosen arguments
//! recorded as `agento.<argument>` attributes.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::{FnArg, Ident, ItemFn, Pat};

use crate::args::StepArgs;
use crate::expand::outcome::record_error;
use crate::function::{allow_generated, bind_result, facade, instrumented, returns_result};

/// The names of the function's plain identifier parameters.
fn parameter_names(function: &ItemFn) -> Vec<Ident> {
    function
        .sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(typed) => match &*typed.pat {
                Pat::Ident(ident) => Some(ident.ident.clone()),
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
        .collect()
}

/// Checks that every name in `fields(...)` is a parameter.
fn check_fields(fields: &[Ident], parameters: &[Ident]) -> syn::Result<()> {
    let Some(field) = fields.iter().find(|field| !parameters.contains(field)) else {
        return Ok(());
    };
    let listed = parameters
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Err(syn::Error::new(
        field.span(),
        if listed.is_empty() {
            format!(
                "`{field}` is not a parameter of this function, which has none to record: remove it from `fields(...)`"
            )
        } else {
            format!(
                "`{field}` is not a parameter of this function: `fields(...)` takes some of {listed}"
            )
        },
    ))
}

/// An expression starting the step span with the `fields(...)` and the step
/// type as attributes.
fn start_span(
    args: &StepArgs,
    function: &ItemFn,
    fields: &[Ident],
    private: &TokenStream,
) -> TokenStream {
    let name = args
        .name
        .as_ref()
        .map_or_else(|| function.sig.ident.to_string(), syn::LitStr::value);
    let kind = args.kind.unwrap_or_default().variant();
    let records = fields.iter().map(|field| {
        let key = format!("agento.{field}");
        quote_spanned! {field.span()=>
            #private::StepField::record(&#field, #private::Key::from_static_str(#key), &mut __agento_attributes);
        }
    });
    let step_type = args.step_type.as_ref().map(|s| {
        let s = crate::args::step_type_str(s);
        quote! {
            __agento_attributes.push(#private::KeyValue::new(#private::attributes::AGENTO_STEP_TYPE, #s));
        }
    });
    let capacity = fields.len() + usize::from(step_type.is_some());
    quote! {
        {
            let mut __agento_attributes = ::std::vec::Vec::with_capacity(#capacity);
            #step_type
            #( #records )*
            #private::SpanGuard::start_with(#name, #private::SpanKind::#kind, #private::OtelSpanKind::Internal, __agento_attributes)
        }
    }
}

/// Statements setting the status of `span` from `__agento_result`.
fn record_status(function: &ItemFn, private: &TokenStream, span: &TokenStream) -> TokenStream {
    if !returns_result(function) {
        return quote!(#span.set_ok(););
    }
    let on_err = record_error(private, span);
    quote! {
        match &__agento_result {
            ::std::result::Result::Ok(_) => #span.set_ok(),
            ::std::result::Result::Err(__agento_error) => { #on_err }
        }
    }
}

/// The traits through which `IoProbe` finds a value's `input.value` /
/// `output.value` (JSON, `Debug`, or none).
fn io_traits(private: &TokenStream) -> TokenStream {
    quote! {
        #[allow(unused_imports)]
        use #private::io::{ViaDebug as _, ViaNothing as _, ViaSerialize as _};
    }
}

/// A block recording the parameters as the span's `input.value` when
/// OpenInference is on.
fn record_inputs(parameters: &[Ident], private: &TokenStream, span: &TokenStream) -> TokenStream {
    let io_traits = io_traits(private);
    let inputs = parameters.iter().map(|parameter| {
        let name = parameter.to_string();
        quote! {
            __agento_inputs.push(#name, (&&&#private::io::IoProbe(&#parameter)).io_value());
        }
    });
    quote! {
        if #private::io::enabled() {
            #io_traits
            let mut __agento_inputs = #private::io::Inputs::new();
            #( #inputs )*
            __agento_inputs.record(&#span.span());
        }
    }
}

/// A block recording `__agento_result` (its `Ok` value) as the span's
/// `output.value` when OpenInference is on.
fn record_output(function: &ItemFn, private: &TokenStream, span: &TokenStream) -> TokenStream {
    let io_traits = io_traits(private);
    let output_value = if returns_result(function) {
        quote! {
            match &__agento_result {
                ::std::result::Result::Ok(__agento_value) => (&&&#private::io::IoProbe(__agento_value)).io_value(),
                ::std::result::Result::Err(_) => ::std::option::Option::None,
            }
        }
    } else {
        quote!((&&&#private::io::IoProbe(&__agento_result)).io_value())
    };
    quote! {
        if #private::io::enabled() {
            #io_traits
            if let ::std::option::Option::Some(__agento_output) = #output_value {
                __agento_output.record_output(&#span.span());
            }
        }
    }
}

/// Generates the instrumented function.
pub(crate) fn expand(args: &StepArgs, function: &ItemFn) -> syn::Result<TokenStream> {
    let parameters = parameter_names(function);
    let fields = args.fields.clone().unwrap_or_default();
    check_fields(&fields, &parameters)?;
    let private = facade(args.krate.as_ref());
    let span = quote!(__agento_span);
    let start = start_span(args, function, &fields, &private);
    let record_inputs = record_inputs(&parameters, &private, &span);
    let run = bind_result(function, &private, &quote!(#span.context()), true);
    let record_status = record_status(function, &private, &span);
    let record_output = record_output(function, &private, &span);
    let allow = allow_generated();
    Ok(instrumented(
        function,
        &quote! {
            let #span = #start;
            #allow
            { #record_inputs }
            #run
            #record_status
            #allow
            { #record_output }
            __agento_result
        },
    ))
}
