//! Argument parsing: one struct per macro, each field set at most once, every
//! error spanned at the offending token and saying what to write instead.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::{Expr, Ident, LitInt, LitStr, Path, Token};

/// The vendors `#[llm_span(system = ...)]` knows by name.
pub(crate) const KNOWN_SYSTEMS: [&str; 3] = ["gemini", "openai", "anthropic"];

/// Sets `slot` once; a second occurrence is a spanned error.
fn set_once<T>(slot: &mut Option<T>, value: T, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format_args!(
            "duplicate argument `{}`: give it once",
            path_text(&meta.path)
        )));
    }
    *slot = Some(value);
    Ok(())
}

fn path_text(path: &Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

fn unknown(meta: &ParseNestedMeta<'_>, accepted: &str) -> syn::Error {
    meta.error(format_args!(
        "unknown argument `{}`; expected one of: {accepted}",
        path_text(&meta.path)
    ))
}

/// `crate = path`: where the facade is (default `::agento`).
fn parse_crate(slot: &mut Option<Path>, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    let path: Path = meta.value()?.parse()?;
    set_once(slot, path, meta)
}

fn lit_str(meta: &ParseNestedMeta<'_>) -> syn::Result<LitStr> {
    let value = meta.value()?;
    value.parse::<LitStr>().map_err(|error| {
        syn::Error::new(
            error.span(),
            format_args!(
                "`{}` takes a string literal, e.g. `{} = \"...\"`",
                path_text(&meta.path),
                path_text(&meta.path)
            ),
        )
    })
}

/// A whole number; anything else is an error saying `hint`.
fn lit_int(meta: &ParseNestedMeta<'_>, hint: &str) -> syn::Result<LitInt> {
    meta.value()?
        .parse()
        .map_err(|error| syn::Error::new(error.span(), hint))
}

fn expr(meta: &ParseNestedMeta<'_>) -> syn::Result<Expr> {
    meta.value()?.parse::<Expr>()
}

/// The `&'static str` of a `step_type = ...` argument: a string literal as
/// written, or a constant such as `StepType::Plan` through its `const fn as_str`.
pub(crate) fn step_type_str(step_type: &Expr) -> proc_macro2::TokenStream {
    match step_type {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(_),
            ..
        }) => quote::quote!(#step_type),
        _ => quote::quote_spanned!(syn::spanned::Spanned::span(step_type)=> (#step_type).as_str()),
    }
}

/// The module's place in the pipeline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Root,
    First,
    Middle,
    Final,
}

/// `#[agento_module(name = "...", root | first | final, goal = <expr>, crate = path)]`.
#[derive(Default)]
pub(crate) struct ModuleArgs {
    pub(crate) name: Option<LitStr>,
    pub(crate) role: Option<Role>,
    pub(crate) goal: Option<Expr>,
    pub(crate) krate: Option<Path>,
}

impl ModuleArgs {
    pub(crate) fn parse(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        let role = if meta.path.is_ident("root") {
            Some(Role::Root)
        } else if meta.path.is_ident("first") {
            Some(Role::First)
        } else if meta.path.is_ident("final") {
            Some(Role::Final)
        } else {
            None
        };
        if let Some(role) = role {
            if self.role.is_some() {
                return Err(meta.error(
                    "a module has one role: write at most one of `root`, `first` or `final`",
                ));
            }
            self.role = Some(role);
            return Ok(());
        }
        if meta.path.is_ident("name") {
            let name = lit_str(meta)?;
            if name.value().trim().is_empty() {
                return Err(syn::Error::new(
                    name.span(),
                    "the module name is empty: write `name = \"1_01_JSON_Goal_to_PlanStructure\"` or leave `name` out to use the binary's name",
                ));
            }
            set_once(&mut self.name, name, meta)
        } else if meta.path.is_ident("goal") {
            set_once(&mut self.goal, expr(meta)?, meta)
        } else if meta.path.is_ident("crate") {
            parse_crate(&mut self.krate, meta)
        } else {
            Err(unknown(
                meta,
                "`name = \"...\"`, `root`, `first`, `final`, `goal = <expr>`, `crate = path`",
            ))
        }
    }

    pub(crate) fn role(&self) -> Role {
        self.role.unwrap_or(Role::Middle)
    }
}

/// The hidden `#[llm_span]` argument through which a `#[retry_spans]` above
/// hands its own arguments down, so that one expansion generates both (and the
/// user's `llm_span` import stays in use).
pub(crate) const RETRY_HANDOVER: &str = "__agento_retry";

/// The value of `system = ...`: a known vendor, or `other("name")`.
pub(crate) struct System {
    pub(crate) name: String,
}

/// `#[llm_span(...)]`.
#[derive(Default)]
pub(crate) struct LlmArgs {
    pub(crate) system: Option<System>,
    pub(crate) model: Option<Expr>,
    pub(crate) temperature: Option<Expr>,
    pub(crate) max_tokens: Option<Expr>,
    pub(crate) operation: Option<LitStr>,
    pub(crate) name: Option<LitStr>,
    pub(crate) step_type: Option<Expr>,
    pub(crate) step_name: Option<Expr>,
    pub(crate) prompt: Option<Expr>,
    pub(crate) system_prompt: Option<Expr>,
    pub(crate) skip: Option<Skip>,
    pub(crate) krate: Option<Path>,
    /// `stream`: the function returns a stream of chunks (see `expand::stream`).
    pub(crate) stream: Option<Span>,
    /// The arguments of a `#[retry_spans]` written above, handed down by it.
    pub(crate) retry: Option<RetryArgs>,
}

/// `skip(prompt, response)`: texts not to record.
#[derive(Default)]
pub(crate) struct Skip {
    pub(crate) prompt: bool,
    pub(crate) response: bool,
}

impl LlmArgs {
    pub(crate) fn parse(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        let p = &meta.path;
        if p.is_ident("system") {
            set_once(&mut self.system, parse_system(meta)?, meta)
        } else if p.is_ident("model") {
            set_once(&mut self.model, expr(meta)?, meta)
        } else if p.is_ident("temperature") {
            set_once(&mut self.temperature, expr(meta)?, meta)
        } else if p.is_ident("max_tokens") {
            set_once(&mut self.max_tokens, expr(meta)?, meta)
        } else if p.is_ident("operation") {
            set_once(&mut self.operation, lit_str(meta)?, meta)
        } else if p.is_ident("name") {
            set_once(&mut self.name, lit_str(meta)?, meta)
        } else if p.is_ident("step_type") {
            set_once(&mut self.step_type, expr(meta)?, meta)
        } else if p.is_ident("system_prompt") {
            set_once(&mut self.system_prompt, expr(meta)?, meta)
        } else if p.is_ident("step_name") {
            set_once(&mut self.step_name, expr(meta)?, meta)
        } else if p.is_ident("prompt") {
            set_once(&mut self.prompt, expr(meta)?, meta)
        } else if p.is_ident("skip") {
            set_once(&mut self.skip, parse_skip(meta)?, meta)
        } else if p.is_ident("crate") {
            parse_crate(&mut self.krate, meta)
        } else if p.is_ident("stream") {
            set_once(&mut self.stream, syn::spanned::Spanned::span(p), meta)
        } else if p.is_ident(RETRY_HANDOVER) {
            let mut retry = RetryArgs::default();
            meta.parse_nested_meta(|item| retry.parse(&item))?;
            set_once(&mut self.retry, retry, meta)
        } else {
            Err(unknown(
                meta,
                "`system`, `model`, `temperature`, `max_tokens`, `operation`, `name`, `step_type`, `step_name`, `prompt`, `system_prompt`, `skip(...)`, `stream`, `crate`",
            ))
        }
    }
}

/// `skip(prompt, response)`.
fn parse_skip(meta: &ParseNestedMeta<'_>) -> syn::Result<Skip> {
    let mut skip = Skip::default();
    meta.parse_nested_meta(|item| {
        if item.path.is_ident("prompt") {
            skip.prompt = true;
        } else if item.path.is_ident("response") {
            skip.response = true;
        } else {
            return Err(item.error(format_args!(
                "`skip` takes `prompt` and/or `response` (the texts not to record), not `{}`",
                path_text(&item.path)
            )));
        }
        Ok(())
    })?;
    Ok(skip)
}

/// `system = "gemini" | "openai" | "anthropic" | other("provider")`.
fn parse_system(meta: &ParseNestedMeta<'_>) -> syn::Result<System> {
    let value = meta.value()?;
    if value.peek(LitStr) {
        return known_system(&value.parse()?);
    }
    let call: syn::ExprCall = value.parse().map_err(|error| {
        syn::Error::new(
            error.span(),
            "`system` takes \"gemini\", \"openai\", \"anthropic\", or `other(\"provider\")`",
        )
    })?;
    other_system(&call)
}

/// A vendor named by a string literal: one of [`KNOWN_SYSTEMS`], or an error
/// with the one meant for a near miss.
fn known_system(lit: &LitStr) -> syn::Result<System> {
    let name = lit.value();
    if KNOWN_SYSTEMS.contains(&name.as_str()) {
        return Ok(System { name });
    }
    let hint = KNOWN_SYSTEMS
        .iter()
        .find(|known| edit_distance(known, &name) <= 2)
        .map(|known| format!("did you mean \"{known}\"? "))
        .unwrap_or_default();
    Err(syn::Error::new(
        lit.span(),
        format_args!(
            "unknown system {name:?}: {hint}expected one of \"gemini\", \"openai\", \"anthropic\", or `other(\"{name}\")` for another provider"
        ),
    ))
}

/// `other("provider")`: any other vendor, named by one word.
fn other_system(call: &syn::ExprCall) -> syn::Result<System> {
    let is_other = matches!(&*call.func, Expr::Path(p) if p.path.is_ident("other"));
    let arg = match (is_other, call.args.len(), call.args.first()) {
        (
            true,
            1,
            Some(Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            })),
        ) => s,
        _ => {
            return Err(syn::Error::new_spanned(
                call,
                "`system` takes \"gemini\", \"openai\", \"anthropic\", or `other(\"provider\")` with one string literal",
            ));
        }
    };
    let name = arg.value();
    if name.trim().is_empty() || name.chars().any(char::is_whitespace) {
        return Err(syn::Error::new(
            arg.span(),
            "the provider name must be one word, e.g. `other(\"mistral\")`",
        ));
    }
    Ok(System { name })
}

/// The Levenshtein distance between `a` and `b`, for "did you mean" hints.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// `backoff = "exponential" | "none"`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum BackoffKind {
    Exponential,
    None,
}

/// `#[retry_spans(max = 3, retry_if = path, backoff = "...", base_ms = N, crate = path)]`.
#[derive(Default)]
pub(crate) struct RetryArgs {
    pub(crate) max: Option<u32>,
    pub(crate) retry_if: Option<Path>,
    pub(crate) backoff: Option<BackoffKind>,
    pub(crate) base_ms: Option<u64>,
    pub(crate) krate: Option<Path>,
}

impl RetryArgs {
    pub(crate) fn parse(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        let p = &meta.path;
        if p.is_ident("max") {
            let lit = lit_int(meta, "`max` takes a whole number, e.g. `max = 3`")?;
            let max: u32 = lit.base10_parse()?;
            if max == 0 {
                return Err(syn::Error::new(
                    lit.span(),
                    "`max` is the number of attempts and must be at least 1: write `max = 1` for no retries",
                ));
            }
            set_once(&mut self.max, max, meta)
        } else if p.is_ident("retry_if") {
            let path: Path = meta.value()?.parse().map_err(|error| {
                syn::Error::new(
                    error.span(),
                    "`retry_if` takes the path of a `fn(&E) -> bool`, e.g. `retry_if = MyError::is_retryable`",
                )
            })?;
            set_once(&mut self.retry_if, path, meta)
        } else if p.is_ident("backoff") {
            set_once(&mut self.backoff, BackoffKind::parse(meta)?, meta)
        } else if p.is_ident("base_ms") {
            let lit = lit_int(
                meta,
                "`base_ms` takes a whole number of milliseconds, e.g. `base_ms = 500`",
            )?;
            set_once(&mut self.base_ms, lit.base10_parse()?, meta)
        } else if p.is_ident("crate") {
            parse_crate(&mut self.krate, meta)
        } else {
            Err(unknown(
                meta,
                "`max = N`, `retry_if = path`, `backoff = \"exponential\" | \"none\"`, `base_ms = N`, `crate = path`",
            ))
        }
    }
}

impl BackoffKind {
    /// `backoff = "exponential" | "none"`.
    fn parse(meta: &ParseNestedMeta<'_>) -> syn::Result<Self> {
        let lit = lit_str(meta)?;
        match lit.value().as_str() {
            "exponential" => Ok(BackoffKind::Exponential),
            "none" => Ok(BackoffKind::None),
            other => Err(syn::Error::new(
                lit.span(),
                format_args!(
                    "unknown backoff {other:?}: write `backoff = \"exponential\"` or `backoff = \"none\"`"
                ),
            )),
        }
    }
}

/// The OpenInference kind of a `#[step]` span.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) enum StepKind {
    #[default]
    Chain,
    Tool,
    Agent,
    Evaluator,
}

impl StepKind {
    /// Every kind with the name written in the attribute.
    const ALL: [(&'static str, StepKind); 4] = [
        ("CHAIN", StepKind::Chain),
        ("TOOL", StepKind::Tool),
        ("AGENT", StepKind::Agent),
        ("EVALUATOR", StepKind::Evaluator),
    ];

    /// The kind written as `kind`; anything else is an error spanned at it that
    /// names the kinds (and the one meant, for a near miss such as `chain`).
    fn from_ident(kind: &Ident) -> syn::Result<Self> {
        let written = kind.to_string();
        if let Some(&(_, parsed)) = Self::ALL.iter().find(|(name, _)| written == *name) {
            return Ok(parsed);
        }
        let hint = if written.eq_ignore_ascii_case("LLM") {
            "a model call gets its LLM span from `#[llm_span]`; a step takes one of CHAIN, TOOL, AGENT, EVALUATOR".to_owned()
        } else {
            let near = Self::ALL
                .iter()
                .find(|(name, _)| edit_distance(name, &written.to_ascii_uppercase()) <= 2)
                .map(|(name, _)| format!("did you mean `kind = {name}`? "))
                .unwrap_or_default();
            format!("{near}expected one of CHAIN, TOOL, AGENT, EVALUATOR")
        };
        Err(syn::Error::new(
            kind.span(),
            format_args!("unknown kind `{written}`: {hint}"),
        ))
    }

    /// The variant of the runtime's `SpanKind` with the same name.
    pub(crate) fn variant(self) -> Ident {
        let name = match self {
            StepKind::Chain => "Chain",
            StepKind::Tool => "Tool",
            StepKind::Agent => "Agent",
            StepKind::Evaluator => "Evaluator",
        };
        Ident::new(name, proc_macro2::Span::call_site())
    }
}

/// `#[step(name = "...", kind = CHAIN, fields(arg, ...), step_type = "...", crate = path)]`.
#[derive(Default)]
pub(crate) struct StepArgs {
    pub(crate) name: Option<LitStr>,
    pub(crate) kind: Option<StepKind>,
    pub(crate) fields: Option<Vec<Ident>>,
    pub(crate) step_type: Option<Expr>,
    pub(crate) krate: Option<Path>,
}

impl StepArgs {
    pub(crate) fn parse(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        let p = &meta.path;
        if p.is_ident("name") {
            set_once(&mut self.name, lit_str(meta)?, meta)
        } else if p.is_ident("kind") {
            let kind: Ident = meta.value()?.parse().map_err(|error| {
                syn::Error::new(
                    error.span(),
                    "`kind` takes one of CHAIN, TOOL, AGENT, EVALUATOR, e.g. `kind = TOOL`",
                )
            })?;
            let parsed = StepKind::from_ident(&kind)?;
            set_once(&mut self.kind, parsed, meta)
        } else if p.is_ident("fields") {
            let mut fields = Vec::new();
            meta.parse_nested_meta(|item| {
                match item.path.get_ident() {
                    Some(ident) if item.input.is_empty() || item.input.peek(Token![,]) => {
                        fields.push(ident.clone());
                    }
                    _ => {
                        return Err(item.error(
                            "`fields` lists argument names, e.g. `fields(step_name, criteria)`",
                        ));
                    }
                }
                Ok(())
            })?;
            set_once(&mut self.fields, fields, meta)
        } else if p.is_ident("step_type") {
            set_once(&mut self.step_type, expr(meta)?, meta)
        } else if p.is_ident("crate") {
            parse_crate(&mut self.krate, meta)
        } else {
            Err(unknown(
                meta,
                "`name = \"...\"`, `kind = CHAIN | TOOL | AGENT | EVALUATOR`, `fields(arg, ...)`, `step_type = \"...\"`, `crate = path`",
            ))
        }
    }
}
