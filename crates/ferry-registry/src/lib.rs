//! Ferry: OCI distribution registry client (auth challenges, token cache, TLS policy, streaming blobs, retries).
