//! Module (stage) runs: what `#[agento_module]` does around a stage's body.
//!
//! A module run started while no [`Telemetry`] is active sets telemetry up,
//! joins the run named by the context carrier (or starts a new one) and flushes
//! at the end. Started inside an active run (the `agento run` driver), it only
//! opens its span as a child of the current context.

use std::borrow::Cow;
use std::fmt::Display;
use std::path::Path;
use std::process::ExitCode;

use opentelemetry::trace::SpanKind as OtelSpanKind;
use opentelemetry::trace::TraceContextExt;
use opentelemetry::{Context, Key, KeyValue};
use serde::Serialize;

use crate::attributes::{AGENT_FINAL_RESPONSE, AGENTO_MODULE, EXPECTED_RESPONSE, USER_GOAL};
use crate::error::ErrorReport;
use crate::io;
use crate::secrets::scrub;
use crate::semconv::Semconv;
use crate::semconv::openinference::{INPUT_MIME_TYPE, INPUT_VALUE, MIME_JSON, MIME_TEXT};
use crate::shared_text::shared_text;
use crate::span::{SpanGuard, SpanKind, text_attributes};
use crate::telemetry::{self, Telemetry};
use crate::tracer::StageTracer;

/// The name of the pipeline's root span.
pub const PIPELINE_SPAN: &str = "agento.pipeline";

/// Where a module stands in the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleRole {
    /// The driver of a whole run (`agento run`): always a new run, span `agento.pipeline`.
    Root,
    /// The first stage: always a new run when standalone; span `AGENT` with `user_goal`.
    First,
    /// A stage in the middle: joins the carried run; span `CHAIN`.
    Middle,
    /// The last stage: like `Middle`, and its span receives `agent.final_response`.
    Final,
}

/// What is fixed for one module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleSpec {
    /// `agento.module`; `None` takes the binary's name.
    pub name: Option<&'static str>,
    /// The module's place in the pipeline.
    pub role: ModuleRole,
}

#[derive(Debug, Clone)]
struct ModuleScope {
    cx: Context,
    role: ModuleRole,
    /// The span of the `Root` module this one runs in, if any: the goal a
    /// first stage learns is the whole run's goal too.
    root: Option<Context>,
}

/// A module run in progress. Dropping it (a panic) ends the span with `ERROR`
/// and flushes telemetry.
///
/// ```no_run
/// use agento_runtime::__private::{ModuleRole, ModuleRun, ModuleSpec};
/// static SPEC: ModuleSpec = ModuleSpec { name: Some("2_Revise-Plan-Stable"), role: ModuleRole::Final };
/// let module = ModuleRun::start(&SPEC, None);
/// let outcome: Result<(), String> = {
///     let _active = module.enter();
///     agento_runtime::record_final_response(&serde_json::json!({"Title": "Plan"}));
///     Ok(())
/// };
/// std::process::exit(if module.finish(outcome).is_ok() { 0 } else { 1 });
/// ```
#[derive(Debug)]
pub struct ModuleRun {
    span: SpanGuard,
    telemetry: Option<Telemetry>,
}

impl ModuleRun {
    /// Starts the module: telemetry (when none is active), then its span.
    pub fn start(spec: &ModuleSpec, goal: Option<&str>) -> Self {
        let name: Cow<'static, str> = spec.name.map_or_else(binary_name, Cow::Borrowed);
        let nested = telemetry::is_active();
        let telemetry = (!nested).then(|| {
            Telemetry::builder()
                .module(name.clone())
                .new_run(matches!(spec.role, ModuleRole::Root | ModuleRole::First))
                .init()
        });
        let mut parent = telemetry
            .as_ref()
            .map_or_else(Context::current, Telemetry::parent_context);
        if nested && let Some(tracer) = telemetry::module_tracer(&name) {
            // This module's spans get its own resource (see `crate::resources`).
            parent = parent.with_value(StageTracer(tracer));
        }
        let is_root = spec.role == ModuleRole::Root || (spec.role == ModuleRole::First && !nested);
        let span_name: Cow<'static, str> = if is_root {
            PIPELINE_SPAN.into()
        } else {
            format!("agento.module.{name}").into()
        };
        let kind = match spec.role {
            ModuleRole::Root | ModuleRole::First => SpanKind::Agent,
            ModuleRole::Middle | ModuleRole::Final => SpanKind::Chain,
        };
        let mut attributes = vec![KeyValue::new(AGENTO_MODULE, name.clone())];
        if let Some(goal) = goal {
            goal_attributes(goal, &mut attributes);
        }
        let mut span =
            SpanGuard::start_in(&parent, span_name, kind, OtelSpanKind::Internal, attributes);
        let root = nested
            .then(|| with_scope(|outer| (outer.role == ModuleRole::Root).then(|| outer.cx.clone())))
            .flatten()
            .flatten();
        if let (Some(goal), Some(root), ModuleRole::First) = (goal, &root, spec.role) {
            set_goal(root, goal);
        }
        let scope = ModuleScope {
            cx: span.context().clone(),
            role: spec.role,
            root,
        };
        span.add_context_value(scope);
        if let Some(telemetry) = &telemetry {
            telemetry.annotate(&span);
            if is_root {
                telemetry.write_carrier(span.context());
            }
        }
        Self { span, telemetry }
    }

    /// The context in which the module span is active.
    pub fn context(&self) -> &Context {
        self.span.context()
    }

    /// Makes the module span current on this thread until the guard drops.
    #[must_use = "the span is current only while the returned guard lives"]
    pub fn enter(&self) -> opentelemetry::ContextGuard {
        self.span.enter()
    }

    /// Records the outcome (status, error), writes the carrier for the next
    /// stage, ends the span and flushes telemetry; returns the outcome.
    pub fn finish<O: ModuleOutcome>(self, outcome: O) -> O {
        let failure = outcome.failure();
        self.finish_reported(outcome, failure)
    }

    /// [`finish`](Self::finish) with the failure already described (the
    /// macros describe it with [`ErrorInfo`](crate::ErrorInfo) when the error
    /// type has it; see [`probe`]).
    pub fn finish_reported<O>(self, outcome: O, failure: Option<ErrorReport>) -> O {
        match failure {
            Some(report) => self.span.record_report(&report),
            None => self.span.set_ok(),
        }
        let Self { span, telemetry } = self;
        if let Some(telemetry) = &telemetry {
            telemetry.write_carrier(&telemetry.carrier_context(span.context()));
        }
        drop(span);
        if let Some(telemetry) = telemetry {
            telemetry.shutdown();
        }
        outcome
    }

    /// [`finish`](Self::finish) for `main`: prints a failure on stderr
    /// (scrubbed) and turns the outcome into the process exit code.
    pub fn exit_code<O: ModuleOutcome>(self, outcome: O) -> ExitCode {
        let failure = outcome.failure();
        self.exit_code_reported(outcome, failure)
    }

    /// [`exit_code`](Self::exit_code) with the failure already described.
    pub fn exit_code_reported<O: ModuleOutcome>(
        self,
        outcome: O,
        failure: Option<ErrorReport>,
    ) -> ExitCode {
        if let Some(report) = &failure {
            crate::stderr::line(&format!("error: {}", scrub(&report.message)));
        }
        let archive = self
            .telemetry
            .as_ref()
            .and_then(|t| t.archive_path().map(Path::to_owned));
        let code = self.finish_reported(outcome, failure).exit_code();
        // A module that owned its telemetry fails when spans missed the archive
        // (a full disk): the trace of the run is incomplete.
        if let Some(archive) = archive
            && let Some(lost) = telemetry::last_report().filter(|r| r.archive_failed > 0)
        {
            crate::stderr::line(&format!(
                "error: the trace archive {} is incomplete: {} of {} spans were archived ({})",
                archive.display(),
                lost.archived,
                lost.ended,
                lost.first_archive_error
                    .as_deref()
                    .unwrap_or("unknown error")
            ));
            return ExitCode::FAILURE;
        }
        code
    }
}

/// The file stem of the running binary (the default module name).
fn binary_name() -> Cow<'static, str> {
    std::env::current_exe()
        .ok()
        .and_then(|path| {
            path.file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
        })
        .map_or(Cow::Borrowed("agento"), Cow::Owned)
}

/// What a module function may return: `()`, [`ExitCode`] or `Result<T, E>`
/// with `E: Display`.
pub trait ModuleOutcome {
    /// The failure to record, if this outcome is one.
    fn failure(&self) -> Option<ErrorReport>;
    /// The process exit code for this outcome.
    fn exit_code(&self) -> ExitCode;
}

impl ModuleOutcome for () {
    fn failure(&self) -> Option<ErrorReport> {
        None
    }
    fn exit_code(&self) -> ExitCode {
        ExitCode::SUCCESS
    }
}

impl ModuleOutcome for ExitCode {
    fn failure(&self) -> Option<ErrorReport> {
        None
    }
    fn exit_code(&self) -> ExitCode {
        *self
    }
}

impl<T, E: Display> ModuleOutcome for Result<T, E> {
    fn failure(&self) -> Option<ErrorReport> {
        self.as_ref().err().map(ErrorReport::of)
    }
    fn exit_code(&self) -> ExitCode {
        if self.is_ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

/// Autoref-specialised description of a module's outcome, for generated
/// code: a `Result` whose error implements [`ErrorInfo`](crate::ErrorInfo)
/// and `Display` is described with them (`error.type` from the error);
/// any other [`ModuleOutcome`] as [`ModuleOutcome::failure`] says. As with
/// [`crate::error::probe`], the explicit `&` selects, on concrete types.
///
/// ```
/// use agento_runtime::__private::outcome_probe::{OutcomeProbe, ViaInfo, ViaOutcome};
/// let outcome: Result<(), std::fmt::Error> = Err(std::fmt::Error);
/// # #[allow(clippy::needless_borrow)]
/// let report = (&OutcomeProbe(&outcome)).failure().unwrap();
/// assert_eq!(report.error_type, "core::fmt::Error");
/// ```
pub mod probe {
    use std::fmt::Display;

    use super::ModuleOutcome;
    use crate::error::{ErrorInfo, ErrorReport};

    /// Wraps a reference to an outcome.
    pub struct OutcomeProbe<'a, O>(pub &'a O);

    /// Chosen for `Result<T, E>` with `E: ErrorInfo + Display`.
    pub trait ViaInfo {
        /// The failure, if the outcome is one.
        fn failure(&self) -> Option<ErrorReport>;
    }
    impl<T, E: ErrorInfo + Display> ViaInfo for OutcomeProbe<'_, Result<T, E>> {
        fn failure(&self) -> Option<ErrorReport> {
            self.0.as_ref().err().map(|error| ErrorReport {
                error_type: error.error_type(),
                message: error.to_string(),
                retry_after: error.retry_after(),
            })
        }
    }

    /// Chosen otherwise.
    pub trait ViaOutcome {
        /// The failure, if the outcome is one.
        fn failure(&self) -> Option<ErrorReport>;
    }
    impl<O: ModuleOutcome> ViaOutcome for &OutcomeProbe<'_, O> {
        fn failure(&self) -> Option<ErrorReport> {
            self.0.failure()
        }
    }
}

fn with_scope<R>(f: impl FnOnce(&ModuleScope) -> R) -> Option<R> {
    Context::map_current(|cx| cx.get::<ModuleScope>().map(f))
}

/// The goal's attributes: `user_goal` (memo) and `input.value` (OpenInference).
/// One shared text under both keys.
fn goal_attributes(goal: &str, out: &mut Vec<KeyValue>) {
    let semconv = Semconv::current();
    if !semconv.content {
        return;
    }
    let value = shared_text(goal);
    if semconv.memo {
        out.push(KeyValue::new(USER_GOAL, value.clone()));
    }
    if semconv.io() {
        out.push(KeyValue::new(INPUT_VALUE, value));
        out.push(KeyValue::new(INPUT_MIME_TYPE, MIME_TEXT));
    }
}

fn set_goal(cx: &Context, goal: &str) {
    let mut attributes = Vec::with_capacity(5);
    goal_attributes(goal, &mut attributes);
    cx.span().set_attributes(attributes);
}

fn set_text(cx: &Context, key: &'static str, text: &str) {
    let mut attributes = Vec::with_capacity(3);
    text_attributes(Key::from_static_str(key), text, &mut attributes);
    cx.span().set_attributes(attributes);
}

/// Sets the memo's `agent.final_response` (the value as JSON, truncated) on
/// the span of the module marked `final`, and the OpenInference
/// `output.value` on it and, inside `agento run`, on the root span. Returns
/// `false`, recording nothing, when called outside a final module or when
/// `value` cannot be serialised.
///
/// ```
/// // Outside a final module nothing is recorded.
/// assert!(!agento_runtime::record_final_response(&vec!["step"]));
/// ```
pub fn record_final_response<T: Serialize + ?Sized>(value: &T) -> bool {
    let Ok(json) = serde_json::to_string(value) else {
        return false;
    };
    with_scope(|scope| {
        if scope.role != ModuleRole::Final {
            return false;
        }
        let semconv = Semconv::current();
        if !semconv.content {
            return true;
        }
        let value = shared_text(&json);
        if semconv.memo {
            scope
                .cx
                .span()
                .set_attribute(KeyValue::new(AGENT_FINAL_RESPONSE, value.clone()));
        }
        io::record_output_value(&scope.cx.span(), &value, MIME_JSON);
        if let Some(root) = &scope.root {
            io::record_output_value(&root.span(), &value, MIME_JSON);
        }
        true
    })
    .unwrap_or(false)
}

/// Sets the memo's `expected_response` on the span of the module marked `final`.
pub fn record_expected_response(text: &str) -> bool {
    with_scope(|scope| {
        if scope.role != ModuleRole::Final {
            return false;
        }
        if Semconv::current().memo {
            set_text(&scope.cx, EXPECTED_RESPONSE, text);
        }
        true
    })
    .unwrap_or(false)
}

/// Sets the goal on the current module's span — `user_goal` (memo) and, for a
/// first module, `input.value` (OpenInference) — and, for a `first` module
/// inside a `root` one (the `agento run` driver), on the root span too (for
/// goals known only once the body has read its input). Returns `false`
/// outside a module.
pub fn record_user_goal(goal: &str) -> bool {
    with_scope(|scope| {
        if matches!(scope.role, ModuleRole::First | ModuleRole::Root) {
            set_goal(&scope.cx, goal);
        } else if Semconv::current().memo {
            set_text(&scope.cx, USER_GOAL, goal);
        }
        if let (ModuleRole::First, Some(root)) = (scope.role, &scope.root) {
            set_goal(root, goal);
        }
    })
    .is_some()
}

/// Sets what the current module read, as JSON, as its span's `input.value`
/// (OpenInference; a first module's input is its goal, see
/// [`record_user_goal`]). Returns `false` outside a module or when `value`
/// cannot be serialised.
///
/// ```
/// assert!(!agento_runtime::record_module_input(&serde_json::json!({"Title": "T"})));
/// ```
pub fn record_module_input<T: Serialize + ?Sized>(value: &T) -> bool {
    record_module_io(value, io::record_input)
}

/// Sets what the current module wrote, as JSON, as its span's `output.value`
/// (OpenInference; a final module's output is set by [`record_final_response`]).
/// Returns `false` outside a module or when `value` cannot be serialised.
pub fn record_module_output<T: Serialize + ?Sized>(value: &T) -> bool {
    record_module_io(value, io::record_output)
}

fn record_module_io<T: Serialize + ?Sized>(
    value: &T,
    record: fn(&opentelemetry::trace::SpanRef<'_>, &str, &'static str),
) -> bool {
    if !io::enabled() {
        return with_scope(|_| ()).is_some();
    }
    let Ok(json) = serde_json::to_string(value) else {
        return false;
    };
    with_scope(|scope| record(&scope.cx.span(), &json, MIME_JSON)).is_some()
}
