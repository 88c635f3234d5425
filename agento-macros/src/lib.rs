//! Attribute macros of the agento framework (placeholder until the macro crate lands).
