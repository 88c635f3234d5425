//! Functions that return a future written as one `async` block, seen as the
//! `async fn` they stand for.
//!
//! Two shapes are recognised, as `tracing-attributes` does:
//! - `fn f(..) -> impl Future<Output = T> { async move { … } }`;
//! - what `#[async_trait]` makes of an `async fn` in a trait impl:
//!   `fn f(..) -> Pin<Box<dyn Future<Output = T> + Send + '_>> { Box::pin(async move { … }) }`
//!   (or `-> BoxFuture<'_, T>`, the `futures` alias).
//!
//! A function returning such a future with any other body is an error that
//! says what to write: the span would cover only the building of the future,
//! not its run.
//!
//! [`desugar`] turns either into `async fn f(..) -> T { … }` for the
//! expansions, and [`Resugar::wrap`] puts the expanded body back into the
//! original signature and future.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{
    AngleBracketedGenericArguments, Expr, GenericArgument, ItemFn, PathArguments, ReturnType, Stmt,
    Type, TypeParamBound,
};

/// How to turn the expanded `async fn` back into the function as written.
pub(crate) enum Resugar {
    /// The function was an `async fn` or not a future at all: nothing to undo.
    AsWritten,
    /// `-> impl Future<Output = T> { async move { … } }`.
    ImplFuture(ItemFn),
    /// `-> Pin<Box<dyn Future<Output = T> …>> { Box::pin(async move { … }) }`.
    BoxPin(ItemFn),
}

impl Resugar {
    /// The original function with the expanded `async fn`'s body as its future.
    pub(crate) fn wrap(self, expanded: TokenStream) -> syn::Result<TokenStream> {
        let (original, boxed) = match self {
            Resugar::AsWritten => return Ok(expanded),
            Resugar::ImplFuture(original) => (original, false),
            Resugar::BoxPin(original) => (original, true),
        };
        let block = syn::parse2::<ItemFn>(expanded)?.block;
        let future = quote!(async move #block);
        let body = if boxed {
            quote!(::std::boxed::Box::pin(#future))
        } else {
            future
        };
        Ok(crate::function::with_body(&original, &body))
    }
}

/// The function as an `async fn` when it returns a future built by one
/// `async` block, with what [`Resugar::wrap`] needs to undo it.
///
/// A function returning `impl Future` or a boxed future whose body is not that
/// one `async` block is an error that says what to write.
pub(crate) fn desugar(function: &ItemFn, macro_name: &str) -> syn::Result<(ItemFn, Resugar)> {
    if function.sig.asyncness.is_some() {
        return Ok((function.clone(), Resugar::AsWritten));
    }
    let ReturnType::Type(_, ty) = &function.sig.output else {
        return Ok((function.clone(), Resugar::AsWritten));
    };
    let (output, block, resugar) = if let Some(output) = impl_future_output(ty) {
        let block = single_async_block(function);
        let written = ("`impl Future`", "one `async move { … }` block");
        (
            output,
            block.ok_or(written),
            Resugar::ImplFuture(function.clone()),
        )
    } else if let Some(output) = boxed_future_output(ty) {
        let block = box_pinned_async_block(function);
        let written = ("a boxed future", "one `Box::pin(async move { … })`");
        (
            output,
            block.ok_or(written),
            Resugar::BoxPin(function.clone()),
        )
    } else {
        return Ok((function.clone(), Resugar::AsWritten));
    };
    let block =
        block.map_err(|(returns, body)| not_one_future(function, macro_name, returns, body))?;
    Ok((as_async_fn(function, output, block), resugar))
}

/// The error for a function returning a future (`returns`) whose body is not
/// the one `async` block it should be (`body`), at the body's first statement.
fn not_one_future(function: &ItemFn, macro_name: &str, returns: &str, body: &str) -> syn::Error {
    let message = format!(
        "`#[{macro_name}]` on a function returning {returns} needs its body to be {body}, so that all of it runs inside the span: move this into the `async` block, or write `async fn {}` returning the future's `Output`",
        function.sig.ident,
    );
    match function.block.stmts.first() {
        Some(offending) => syn::Error::new_spanned(offending, message),
        None => syn::Error::new_spanned(&function.block, message),
    }
}

fn as_async_fn(function: &ItemFn, output: &Type, block: &syn::Block) -> ItemFn {
    let mut desugared = function.clone();
    desugared.sig.asyncness = Some(syn::token::Async(function.sig.fn_token.span));
    desugared.sig.output = ReturnType::Type(Default::default(), Box::new(output.clone()));
    desugared.block = Box::new(block.clone());
    desugared
}

/// `T` of `impl Future<Output = T> [+ …]`.
fn impl_future_output(ty: &Type) -> Option<&Type> {
    let Type::ImplTrait(bounds) = ty else {
        return None;
    };
    future_output(bounds.bounds.iter())
}

/// `T` of `Pin<Box<dyn Future<Output = T> [+ …]>>` (any path to `Pin`/`Box`)
/// or of `BoxFuture<'_, T>` / `LocalBoxFuture<'_, T>`.
fn boxed_future_output(ty: &Type) -> Option<&Type> {
    if let Some(output) =
        single_type_argument(ty, "BoxFuture").or_else(|| single_type_argument(ty, "LocalBoxFuture"))
    {
        return Some(output);
    }
    let boxed = single_type_argument(ty, "Pin")?;
    let Type::TraitObject(object) = single_type_argument(boxed, "Box")? else {
        return None;
    };
    future_output(object.bounds.iter())
}

fn single_type_argument<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    let segment = path.path.segments.last()?;
    if segment.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(AngleBracketedGenericArguments { args, .. }) =
        &segment.arguments
    else {
        return None;
    };
    args.iter().find_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    })
}

fn future_output<'a>(mut bounds: impl Iterator<Item = &'a TypeParamBound>) -> Option<&'a Type> {
    bounds.find_map(|bound| {
        let TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let segment = bound.path.segments.last()?;
        if segment.ident != "Future" {
            return None;
        }
        let PathArguments::AngleBracketed(arguments) = &segment.arguments else {
            return None;
        };
        arguments.args.iter().find_map(|arg| match arg {
            GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(&assoc.ty),
            _ => None,
        })
    })
}

/// The function's body as one trailing expression.
fn only_expression(function: &ItemFn) -> Option<&Expr> {
    match function.block.stmts.as_slice() {
        [Stmt::Expr(expr, None)] => Some(expr),
        _ => None,
    }
}

/// The block of a body that is exactly `async [move] { … }`.
fn single_async_block(function: &ItemFn) -> Option<&syn::Block> {
    match only_expression(function)? {
        Expr::Async(future) => Some(&future.block),
        _ => None,
    }
}

/// The block of a body that is exactly `Box::pin(async [move] { … })`.
fn box_pinned_async_block(function: &ItemFn) -> Option<&syn::Block> {
    let Expr::Call(call) = only_expression(function)? else {
        return None;
    };
    let Expr::Path(callee) = &*call.func else {
        return None;
    };
    let mut segments = callee.path.segments.iter().rev();
    let is_box_pin = segments.next().is_some_and(|s| s.ident == "pin")
        && segments.next().is_some_and(|s| s.ident == "Box");
    match (is_box_pin, call.args.iter().collect::<Vec<_>>().as_slice()) {
        (true, [Expr::Async(future)]) => Some(&future.block),
        _ => None,
    }
}
