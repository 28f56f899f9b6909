//! Shared helpers for the end-to-end tests live in ferry-testkit; this crate only holds tests.
