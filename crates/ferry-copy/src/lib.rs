//! Ferry: the streaming, verifying, parallel, resumable copy engine and its progress events.
