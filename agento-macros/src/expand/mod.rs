//! Code generation, one module per macro.

pub(crate) mod llm;
pub(crate) mod module;
pub(crate) mod outcome;
pub(crate) mod retry;
pub(crate) mod step;
pub(crate) mod stream;
