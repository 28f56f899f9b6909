//! Ferry test harness: real docker-registry instances on loopback (HTTP, TLS, htpasswd) and generated images.
