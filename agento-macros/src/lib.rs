//! Attribute macros of the agento framework. Use them through the `agento`
//! facade crate: `use agento::{agento_module, llm_span, retry_spans, step};`.
//!
//! The crate follows `tracing-attributes`: each entry point here parses its
//! arguments (`args`), checks the function it is on (`function`) and
//! hands both to its expansion (`expand`). Errors are spanned at the
//! offending token and say what to write instead. Generated code names the
//! runtime only through `::agento::__private` (or `<crate = path>::__private`),
//! and its identifiers start with `__agento_`.
//!
//! Telemetry code is generated only with the `enabled` feature (on by default
//! in the facade). Without it every macro still checks its arguments and then
//! returns the function unchanged.
//!
//! The examples below are on the facade, `agento`.

#![warn(missing_docs)]

mod args;
mod desugar;
mod expand;
mod function;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;

/// Whether telemetry code is generated (the facade's `enabled` feature).
const ENABLED: bool = cfg!(feature = "enabled");

/// Parses the attribute's arguments with `parse_one` per item.
fn parse_args<A: Default>(
    args: TokenStream,
    parse_one: impl Fn(&mut A, &ParseNestedMeta<'_>) -> syn::Result<()>,
) -> syn::Result<A> {
    let mut parsed = A::default();
    syn::meta::parser(|meta| parse_one(&mut parsed, &meta)).parse(args)?;
    Ok(parsed)
}

/// The expansion, or without the `enabled` feature the function as written
/// (its arguments were checked all the same).
fn enabled_or_bare(function: &syn::ItemFn, expanded: TokenStream2) -> TokenStream2 {
    if ENABLED {
        expanded
    } else {
        quote::quote!(#function)
    }
}

/// Rejects another agento attribute below this one: `message` says, for its
/// name, what to write instead.
fn reject_below(function: &syn::ItemFn, message: impl FnOnce(&str) -> String) -> syn::Result<()> {
    match function::any_attribute_below(function) {
        Some((attr, name)) => Err(syn::Error::new_spanned(attr, message(name))),
        None => Ok(()),
    }
}

/// Expands `function` seen as the `async fn` it stands for (see `desugar`)
/// and puts the result back into the function as written.
fn expand_desugared(
    function: &syn::ItemFn,
    macro_name: &str,
    expand: impl FnOnce(&syn::ItemFn) -> syn::Result<TokenStream2>,
) -> syn::Result<TokenStream2> {
    let (desugared, resugar) = desugar::desugar(function, macro_name)?;
    let expanded = resugar.wrap(expand(&desugared)?)?;
    Ok(enabled_or_bare(function, expanded))
}

fn finish(result: syn::Result<TokenStream2>, item: TokenStream) -> TokenStream {
    match result {
        Ok(tokens) => tokens.into(),
        Err(error) => {
            // Keep the function itself, so that one mistake in the attribute
            // does not also turn every call of the function into an error.
            let mut tokens = error.to_compile_error();
            tokens.extend(TokenStream2::from(item));
            tokens.into()
        }
    }
}

/// The entry of a pipeline stage: sets telemetry up, opens the module span as
/// a child of the carried context, runs the body, records an `Err` or a panic
/// as `ERROR`, writes the context carrier for the next stage, flushes, and —
/// on `main` — turns the result into the process exit code.
///
/// Arguments: `name = "..."` (the `agento.module` resource attribute; default
/// the binary's name), one of `root` (the driver of a whole run), `first` (the
/// first stage: a new run, span `agento.pipeline`, `AGENT`) or `final` (its span
/// receives `agent.final_response`), `goal = <expr>` (recorded as `user_goal`),
/// `crate = path`.
///
/// A stage function may take parameters (what the stage needs from its
/// caller; they are not recorded); `main` takes none. It returns `()`, `ExitCode` or
/// `Result<T, E: Display>`. On `async fn main`, write `#[agento_module]` above
/// `#[tokio::main]`.
///
/// ```no_run
/// #[agento::agento_module(name = "1_01_JSON_Goal_to_PlanStructure", first)]
/// fn main() -> Result<(), std::io::Error> {
///     let goal = std::fs::read_to_string("goal.txt")?;
///     agento::record_user_goal(&goal);
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn agento_module(args: TokenStream, item: TokenStream) -> TokenStream {
    let result = parse_args(args, args::ModuleArgs::parse).and_then(|args| {
        let function = function::parse_fn(item.clone().into(), "agento_module")?;
        reject_below(&function, |name| {
            format!(
                "`#[agento_module]` runs a whole stage; put `#[{name}]` on the functions it calls, not on the module's entry"
            )
        })?;
        let expanded = expand::module::expand(&args, &function)?;
        Ok(enabled_or_bare(&function, expanded))
    });
    finish(result, item)
}

/// A CLIENT span around one LLM call: `llm.<system>.<fn name>` with
/// `openinference.span.kind = LLM`, the `gen_ai.*` request attributes before the
/// call and the response ones (content truncated, tokens, response model,
/// finish reasons) after it; an `Err` is recorded as `ERROR`.
///
/// Arguments: `system = "gemini" | "openai" | "anthropic" | other("name")`,
/// `model = <expr>` (required), `temperature = <expr>`, `max_tokens = <expr>`,
/// `operation = "chat"`, `name = "..."`, `step_type = "..." | StepType::Plan`
/// (recorded on the call that succeeds), `step_name = <expr>`,
/// `prompt = <expr>`, `system_prompt = <expr>`, `skip(prompt, response)`,
/// `stream`, `crate = path`. The function returns `Result<R, E>` with
/// `R: agento::LlmResponse`, or streams: it returns `impl Stream<Item =
/// Result<C, E2>>`, `Pin<Box<dyn Stream<..>>>` or `BoxStream` (alone or in a
/// `Result`) with `C: agento::LlmChunk`, and the span moves into the returned
/// stream and ends with it (`stream` is needed only for a type alias of a
/// boxed stream). Which attribute names are written follows `AGENTO_SEMCONV`
/// (memo, OpenInference, GenAI; see the README).
///
/// ```no_run
/// # struct Reply(String);
/// # impl agento::LlmResponse for Reply {
/// #     fn text(&self) -> &str { &self.0 }
/// # }
/// struct Planner { model: String }
///
/// impl Planner {
///     #[agento::llm_span(system = "gemini", model = self.model.as_str(), temperature = 0.1, prompt = prompt)]
///     async fn generate_plan_structure(&self, prompt: &str) -> Result<Reply, std::io::Error> {
///         Ok(Reply(format!("{{\"Title\": \"{prompt}\"}}")))
///     }
/// }
/// ```
#[proc_macro_attribute]
pub fn llm_span(args: TokenStream, item: TokenStream) -> TokenStream {
    let result = parse_args(args, args::LlmArgs::parse).and_then(|args| {
        let function = function::parse_fn(item.clone().into(), "llm_span")?;
        if let Some(attr) = function::attribute_below(&function, "retry_spans") {
            return Err(syn::Error::new_spanned(
                attr,
                "`#[retry_spans]` must be written above `#[llm_span]`, so that every attempt is an LLM span: swap the two attributes",
            ));
        }
        reject_below(&function, |name| {
            format!(
                "`#[llm_span]` cannot be combined with `#[{name}]`: put `#[{name}]` on the function that calls this one"
            )
        })?;
        expand_desugared(&function, "llm_span", |desugared| {
            match (&args.retry, expand::stream::detect(&args, desugared)?) {
                (Some(retry), _) => expand::retry::expand(retry, Some(&args), desugared),
                (None, Some(shape)) => expand::stream::expand(&args, desugared, shape),
                (None, None) => expand::llm::expand(&args, desugared),
            }
        })
    });
    finish(result, item)
}

/// Retries a function returning `Result` with a span per attempt: a parent
/// `<name>.with_retry` (`retry.max_attempts`) and one `attempt_<n>` child per
/// try (`retry.attempt`, status `ERROR` with `error.type` and an exception event
/// for a failure, `OK` for the success). Sleeps between tries with exponential
/// backoff and jitter, honouring a Retry-After that the error reports through
/// `agento::ErrorInfo`.
///
/// Arguments: `max = N` (attempts, at least 1; default 3),
/// `retry_if = path` (a `fn(&E) -> bool`; default: every error is retried),
/// `backoff = "exponential" | "none"`, `base_ms = N` (default 500),
/// `crate = path`.
///
/// Stacked above `#[llm_span]`, each attempt span is the LLM span itself and
/// carries every `gen_ai.*` attribute. The body runs once per attempt, so it
/// borrows its arguments.
///
/// ```no_run
/// # struct Reply(String);
/// # impl agento::LlmResponse for Reply {
/// #     fn text(&self) -> &str { &self.0 }
/// # }
/// fn is_retryable(error: &std::io::Error) -> bool {
///     error.kind() == std::io::ErrorKind::TimedOut
/// }
///
/// struct Reviewer { model: String }
///
/// impl Reviewer {
///     fn model(&self) -> &str { &self.model }
///
///     #[agento::retry_spans(max = 3, retry_if = is_retryable)]
///     #[agento::llm_span(system = "anthropic", model = self.model())]
///     async fn revision_verdict(&self, prompt: &str) -> Result<Reply, std::io::Error> {
///         Ok(Reply(format!("YES: {prompt}")))
///     }
/// }
/// ```
#[proc_macro_attribute]
pub fn retry_spans(args: TokenStream, item: TokenStream) -> TokenStream {
    let tokens = TokenStream2::from(args.clone());
    let result = parse_args(args, args::RetryArgs::parse).and_then(|args| {
        let mut function = function::parse_fn(item.clone().into(), "retry_spans")?;
        if hand_over_to_llm_span(&mut function, &tokens) {
            // `#[llm_span]` below generates both, with these arguments.
            expand::retry::check(&desugar::desugar(&function, "retry_spans")?.0)?;
            return Ok(quote::quote!(#function));
        }
        reject_below(&function, |name| {
            format!(
                "`#[retry_spans]` stacks only on `#[llm_span]`: put `#[{name}]` on the function that calls this one"
            )
        })?;
        expand_desugared(&function, "retry_spans", |desugared| {
            expand::retry::expand(&args, None, desugared)
        })
    });
    finish(result, item)
}

/// Appends `__agento_retry(<retry arguments>)` to an `#[llm_span(...)]`
/// directly below; returns whether there was one.
fn hand_over_to_llm_span(function: &mut syn::ItemFn, retry: &TokenStream2) -> bool {
    let Some(attr) = function.attrs.iter_mut().find(|attr| {
        attr.path()
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "llm_span")
    }) else {
        return false;
    };
    let handover = syn::Ident::new(args::RETRY_HANDOVER, proc_macro2::Span::call_site());
    let path = attr.path().clone();
    let existing = match &attr.meta {
        syn::Meta::List(list) => list.tokens.clone(),
        _ => TokenStream2::new(),
    };
    let separator = (!existing.is_empty()).then(|| quote::quote!(,));
    attr.meta = syn::parse_quote!(#path(#existing #separator #handover(#retry)));
    true
}

/// A semantic workflow step (memo §6): an `INTERNAL` span named after the
/// function (or `name`), with OpenInference kind `kind` (default `CHAIN`) and
/// the arguments listed in `fields(...)` recorded as `agento.<argument>`
/// (texts truncated; scrubbed on export). With OpenInference on, the
/// arguments (JSON of those that are `Serialize`, else their `Debug` text)
/// are its `input.value` and the result its `output.value`. An `Err` result
/// is recorded as `ERROR`.
///
/// Arguments: `name = "..."`, `kind = CHAIN | TOOL | AGENT | EVALUATOR`,
/// `fields(arg, ...)`, `step_type = "..." | StepType::Plan`, `crate = path`.
///
/// ```no_run
/// struct Reviser;
///
/// impl Reviser {
///     #[agento::step(kind = CHAIN, fields(step_name))]
///     async fn revise_step_with_llms(&self, step_name: &str) -> Result<String, std::io::Error> {
///         Ok(step_name.to_owned())
///     }
/// }
/// ```
#[proc_macro_attribute]
pub fn step(args: TokenStream, item: TokenStream) -> TokenStream {
    let result = parse_args(args, args::StepArgs::parse).and_then(|args| {
        let function = function::parse_fn(item.clone().into(), "step")?;
        reject_below(&function, |name| {
            format!(
                "`#[step]` cannot be combined with `#[{name}]`: a step calls instrumented functions, so put `#[{name}]` on a function this step calls"
            )
        })?;
        expand_desugared(&function, "step", |desugared| {
            expand::step::expand(&args, desugared)
        })
    });
    finish(result, item)
}
