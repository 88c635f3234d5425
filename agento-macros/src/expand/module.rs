//! `#[agento_module]`: telemetry setup, the module span, the carrier, the
//! flush and the exit code around a stage's entry function.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemFn;
use syn::spanned::Spanned;

use crate::args::{ModuleArgs, Role};
use crate::function::{allow_generated, facade, fake_return_edge, with_body};

/// Checks the function and generates the instrumented one.
pub(crate) fn expand(args: &ModuleArgs, function: ItemFn) -> syn::Result<TokenStream> {
    if let Some(input) = function.sig.inputs.first()
        && function.sig.ident == "main"
    {
        return Err(syn::Error::new(
            input.span(),
            "`#[agento_module]` on `main` takes no parameters: read inputs inside it (`std::env::args`, a parser such as clap), or put the attribute on a stage function that `main` calls with them",
        ));
    }
    if !function.sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            function.sig.generics.span(),
            "`#[agento_module]` goes on a non-generic function such as `fn main()` or `fn run()`",
        ));
    }
    let private = facade(args.krate.as_ref());
    let is_main = function.sig.ident == "main";
    let role = match args.role() {
        Role::Root => quote!(Root),
        Role::First => quote!(First),
        Role::Middle => quote!(Middle),
        Role::Final => quote!(Final),
    };
    let name = args.name.as_ref().map_or_else(
        || quote!(::std::option::Option::None),
        |n| quote!(::std::option::Option::Some(#n)),
    );
    let goal_binding = args.goal.as_ref().map(|goal| {
        quote! { let __agento_goal = #goal; }
    });
    let goal_arg = if args.goal.is_some() {
        quote!(::std::option::Option::Some(
            ::std::convert::AsRef::<str>::as_ref(&__agento_goal)
        ))
    } else {
        quote!(::std::option::Option::None)
    };
    let block = &function.block;
    let is_async = function.sig.asyncness.is_some();
    let original_output = crate::function::value_type(&function);
    let run = if is_async {
        quote! {
            __agento_module.instrument(async move {
                let __agento_outcome: #original_output = #block;
                __agento_outcome
            }).await
        }
    } else {
        quote! {
            {
                let __agento_attached = __agento_module.enter();
                let __agento_outcome: #original_output = (move || #block)();
                ::std::mem::drop(__agento_attached);
                __agento_outcome
            }
        }
    };
    let failure = quote! {
        {
            #[allow(unused_imports)]
            use #private::outcome_probe::{ViaInfo as _, ViaOutcome as _};
            (&#private::outcome_probe::OutcomeProbe(&__agento_outcome)).failure()
        }
    };
    let finish = if is_main {
        quote! {
            let __agento_failure = #failure;
            __agento_module.exit_code_reported(__agento_outcome, __agento_failure)
        }
    } else {
        quote! {
            let __agento_failure = #failure;
            __agento_module.finish_reported(__agento_outcome, __agento_failure)
        }
    };
    let allow = allow_generated();
    let fake_return = if is_main {
        TokenStream::new()
    } else {
        fake_return_edge(&function)
    };
    let body = quote! {
        #fake_return
        #allow
        static __AGENTO_MODULE: #private::ModuleSpec = #private::ModuleSpec {
            name: #name,
            role: #private::ModuleRole::#role,
        };
        #goal_binding
        let __agento_module = #private::ModuleRun::start(&__AGENTO_MODULE, #goal_arg);
        #allow
        let __agento_outcome = #run;
        #finish
    };
    let mut function = function;
    if is_main {
        function.sig.output = syn::parse_quote!(-> ::std::process::ExitCode);
    }
    Ok(with_body(&function, &body))
}
