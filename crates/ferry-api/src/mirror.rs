//! Mirror-to-mirror workflow (filled in by the foundation issue).
