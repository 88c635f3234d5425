//! What the macros need to know of the annotated function, and the pieces of
//! generated code every expansion shares.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, ItemFn, Path, ReturnType, Type};

/// The agento attribute macros, as they may appear on one function.
const OUR_ATTRIBUTES: [&str; 4] = ["agento_module", "llm_span", "retry_spans", "step"];

/// Parses the annotated item as a function; anything else is a spanned error
/// naming the macro.
pub(crate) fn parse_fn(item: TokenStream, macro_name: &str) -> syn::Result<ItemFn> {
    syn::parse2::<ItemFn>(item.clone()).map_err(|_| {
        let span = item
            .clone()
            .into_iter()
            .find(|token| !matches!(token, proc_macro2::TokenTree::Punct(p) if p.as_char() == '#'))
            .map_or_else(proc_macro2::Span::call_site, |token| token.span());
        syn::Error::new(
            span,
            format_args!(
                "`#[{macro_name}]` goes on a function (`fn` or `async fn`), not on this item"
            ),
        )
    })
}

/// The agento attribute below this one on the same function, if any.
pub(crate) fn attribute_below<'a>(function: &'a ItemFn, name: &str) -> Option<&'a Attribute> {
    function.attrs.iter().find(|attr| is_ours(attr, name))
}

/// Any agento attribute below this one on the same function.
pub(crate) fn any_attribute_below(function: &ItemFn) -> Option<(&Attribute, &'static str)> {
    function.attrs.iter().find_map(|attr| {
        OUR_ATTRIBUTES
            .iter()
            .find(|name| is_ours(attr, name))
            .map(|name| (attr, *name))
    })
}

fn is_ours(attr: &Attribute, name: &str) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == name)
}

/// The facade path generated code names items through.
pub(crate) fn facade(krate: Option<&Path>) -> TokenStream {
    match krate {
        Some(path) => quote!(#path::__private),
        None => quote!(::agento::__private),
    }
}

/// Whether the return type is written as `Result<..>` (any path ending in
/// `Result`, so aliases such as `io::Result<T>` count).
pub(crate) fn returns_result(function: &ItemFn) -> bool {
    match &function.sig.output {
        ReturnType::Type(_, ty) => match &**ty {
            Type::Path(path) => path
                .path
                .segments
                .last()
                .is_some_and(|segment| segment.ident == "Result"),
            _ => false,
        },
        ReturnType::Default => false,
    }
}

/// The span of the return type (or of the signature when there is none).
pub(crate) fn return_span(function: &ItemFn) -> proc_macro2::Span {
    match &function.sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => function.sig.ident.span(),
    }
}

fn contains_impl_trait(ty: &Type) -> bool {
    struct Finder(bool);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    syn::visit::visit_type(&mut finder, ty);
    finder.0
}

/// The type of the function's value for a `let` annotation: the declared
/// return type with every `impl Trait` replaced by `_`. Annotating the result
/// fixes its type before the generated code inspects it (the error probes
/// need the concrete error type).
pub(crate) fn value_type(function: &ItemFn) -> TokenStream {
    struct Infer;
    impl syn::visit_mut::VisitMut for Infer {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if matches!(ty, Type::ImplTrait(_)) {
                *ty = Type::Infer(syn::TypeInfer {
                    underscore_token: Default::default(),
                });
            } else {
                syn::visit_mut::visit_type_mut(self, ty);
            }
        }
    }
    match &function.sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => {
            let mut ty = (**ty).clone();
            syn::visit_mut::VisitMut::visit_type_mut(&mut Infer, &mut ty);
            quote!(#ty)
        }
    }
}

/// The "fake return edge" of `tracing-attributes`: an unreachable `return` of
/// the declared type placed before the body, so that type inference sees the
/// function's return type first and type errors point at the user's code.
/// Left out for `impl Trait` returns, which cannot be named in a `let`.
pub(crate) fn fake_return_edge(function: &ItemFn) -> TokenStream {
    let ReturnType::Type(_, ty) = &function.sig.output else {
        return TokenStream::new();
    };
    if contains_impl_trait(ty) {
        return TokenStream::new();
    }
    quote_spanned! {ty.span()=>
        #[allow(
            unknown_lints,
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::let_unit_value,
            clippy::unreachable,
            clippy::let_with_type_underscore,
            clippy::empty_loop
        )]
        if false {
            let __agento_fake_return: #ty = loop {};
            return __agento_fake_return;
        }
    }
}

/// Rebuilds `function` with `body` as its block, keeping its attributes,
/// visibility and signature.
pub(crate) fn with_body(function: &ItemFn, body: &TokenStream) -> TokenStream {
    let ItemFn {
        attrs, vis, sig, ..
    } = function;
    quote! {
        #(#attrs)*
        #vis #sig {
            #body
        }
    }
}

/// The lints generated statements may trip in users' crates.
pub(crate) fn allow_generated() -> TokenStream {
    quote! {
        #[allow(
            unused_braces,
            clippy::redundant_closure_call,
            clippy::needless_borrow,
            clippy::needless_borrows_for_generic_args,
            clippy::semicolon_if_nothing_returned,
            clippy::used_underscore_binding
        )]
    }
}

/// The statement that runs the original body once, in the context `cx`, and
/// binds its value, annotated with the declared type, to `__agento_result`.
/// `move_kw` moves the function's parameters into the body (it runs once);
/// without it the body borrows them (a retried body runs once per attempt).
pub(crate) fn bind_result(
    function: &ItemFn,
    private: &TokenStream,
    cx: &TokenStream,
    move_kw: bool,
) -> TokenStream {
    let allow = allow_generated();
    let value_type = value_type(function);
    let run = run_body(function, private, cx, move_kw);
    quote! {
        #allow
        let __agento_result: #value_type = #run;
    }
}

/// Rebuilds `function` with the generated `statements` as its body, after the
/// fake return edge; the statements end with the function's value.
pub(crate) fn instrumented(function: &ItemFn, statements: &TokenStream) -> TokenStream {
    let fake_return = fake_return_edge(function);
    let allow = allow_generated();
    with_body(
        function,
        &quote! {
            #fake_return
            #allow
            #statements
        },
    )
}

/// An expression that runs the original body once, in the context `cx`, and
/// evaluates to its value. Sync bodies run in a closure (so that `return` and
/// `?` stay inside), async bodies in an `async` block polled with the context:
/// the one place where either is written.
fn run_body(
    function: &ItemFn,
    private: &TokenStream,
    cx: &TokenStream,
    move_kw: bool,
) -> TokenStream {
    let block = &function.block;
    let mv = move_kw.then(|| quote!(move));
    if function.sig.asyncness.is_some() {
        quote! {
            #private::FutureExt::with_context(async #mv #block, ::std::clone::Clone::clone(#cx)).await
        }
    } else {
        quote! {
            {
                let __agento_attached = ::std::clone::Clone::clone(#cx).attach();
                let __agento_value = (#mv || #block)();
                ::std::mem::drop(__agento_attached);
                __agento_value
            }
        }
    }
}
