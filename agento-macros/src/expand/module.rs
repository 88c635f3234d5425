//! `#[agento_module]`: telemetry setup, the module span, the carrier, the
//! flush and the exit code around a stage's entry function.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemFn;
use syn::spanned::Spanned;

use crate::args::{ModuleArgs, Role};
use crate::expand::outcome;
use crate::function::{bind_result, facade, instrumented};

/// Checks that the function can be a stage's entry: not generic, and no
/// parameters on `main` (a stage function takes what its caller gives it).
fn check(function: &ItemFn) -> syn::Result<()> {
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
    Ok(())
}

/// Statements declaring the `static` spec of the module and starting it as
/// `__agento_module` (the goal evaluated here).
fn start(args: &ModuleArgs, private: &TokenStream) -> TokenStream {
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
    let (goal_binding, goal_arg) = match &args.goal {
        Some(goal) => (
            quote! { let __agento_goal = #goal; },
            quote!(::std::option::Option::Some(
                ::std::convert::AsRef::<str>::as_ref(&__agento_goal)
            )),
        ),
        None => (TokenStream::new(), quote!(::std::option::Option::None)),
    };
    quote! {
        static __AGENTO_MODULE: #private::ModuleSpec = #private::ModuleSpec {
            name: #name,
            role: #private::ModuleRole::#role,
        };
        #goal_binding
        let __agento_module = #private::ModuleRun::start(&__AGENTO_MODULE, #goal_arg);
    }
}

/// Checks the function and generates the instrumented one. On `main`, the
/// outcome becomes the process exit code (the signature returns `ExitCode`).
pub(crate) fn expand(args: &ModuleArgs, function: &ItemFn) -> syn::Result<TokenStream> {
    check(function)?;
    let private = facade(args.krate.as_ref());
    let start = start(args, &private);
    let run = bind_result(function, &private, &quote!(__agento_module.context()), true);
    let failure = outcome::failure(&private);
    let mut signature = function.clone();
    let finish = if function.sig.ident == "main" {
        signature.sig.output = syn::parse_quote!(-> ::std::process::ExitCode);
        quote!(exit_code_reported)
    } else {
        quote!(finish_reported)
    };
    Ok(instrumented(
        &signature,
        &quote! {
            #start
            #run
            let __agento_failure = #failure;
            __agento_module.#finish(__agento_result, __agento_failure)
        },
    ))
}
