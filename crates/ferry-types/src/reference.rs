//! Image references (`[registry/]repo[:tag][@digest]`) and mirror destinations
//! (`docker://host[:port][/ns...]`, `file://dir`).
//!
//! Normalisation follows the docker/distribution reference rules that oc-mirror inherits:
//! no registry means `docker.io`, and a single-component repository on docker.io gets `library/`.

use crate::digest::Digest;
use std::fmt;
use std::path::PathBuf;

pub const DOCKER_HUB: &str = "docker.io";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid image reference {input:?}: {reason}")]
pub struct RefError {
    pub input: String,
    pub reason: String,
}

/// A normalised image reference. At least one of `tag` / `digest` may be absent (then the
/// reference means `:latest` when resolved, see [`ImageRef::tag_or_latest`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageRef {
    /// Host with optional port, e.g. `quay.io`, `localhost:5000`, `[::1]:5000`.
    pub registry: String,
    /// Repository path without the registry, e.g. `library/alpine`, `openshift/release`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

impl ImageRef {
    /// Parse and normalise a reference (see module docs).
    pub fn parse(input: &str) -> Result<Self, RefError> {
        crate::reference::parse_ref(input)
    }

    /// `registry/repository`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The reference string to fetch: digest if present, else tag (else `latest`).
    pub fn reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }

    pub fn tag_or_latest(&self) -> &str {
        self.tag.as_deref().unwrap_or("latest")
    }

    /// oc-mirror's `Exact()`: `name@digest` when a digest is known, else `name:tag`.
    pub fn exact(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => format!("{}@{}", self.name(), d),
            (None, Some(t)) => format!("{}:{}", self.name(), t),
            (None, None) => self.name(),
        }
    }

    pub fn with_digest(&self, digest: Digest) -> Self {
        ImageRef {
            digest: Some(digest),
            ..self.clone()
        }
    }
}

impl fmt::Display for ImageRef {
    /// Full form: `name[:tag][@digest]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for ImageRef {
    type Err = RefError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ImageRef::parse(s)
    }
}

fn looks_like_registry(first: &str) -> bool {
    first.contains('.') || first.contains(':') || first == "localhost" || first.starts_with('[')
}

fn valid_component(c: &str) -> bool {
    // distribution's path-component grammar: [a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*
    if c.is_empty() {
        return false;
    }
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // a separator run
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn valid_tag(t: &str) -> bool {
    // [\w][\w.-]{0,127}
    !t.is_empty()
        && t.len() <= 128
        && (t.as_bytes()[0].is_ascii_alphanumeric() || t.as_bytes()[0] == b'_')
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

fn valid_host(h: &str) -> Result<(), String> {
    if let Some(rest) = h.strip_prefix('[') {
        let (addr, port) = rest.split_once(']').ok_or("IPv6 host is missing its closing ']'")?;
        addr.parse::<std::net::Ipv6Addr>()
            .map_err(|_| format!("{addr:?} is not an IPv6 address"))?;
        if !port.is_empty() {
            let p = port
                .strip_prefix(':')
                .ok_or("expected ':port' after the IPv6 address")?;
            p.parse::<u16>().map_err(|_| format!("invalid port {p:?}"))?;
        }
        return Ok(());
    }
    let (host, port) = match h.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (h, None),
    };
    if let Some(p) = port {
        p.parse::<u16>().map_err(|_| format!("invalid port {p:?}"))?;
    }
    if host.is_empty()
        || !host.split('.').all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
    {
        return Err(format!("invalid registry host {host:?}"));
    }
    Ok(())
}

pub(crate) fn parse_ref(input: &str) -> Result<ImageRef, RefError> {
    let err = |reason: String| RefError {
        input: input.to_string(),
        reason,
    };
    let s = input.trim();
    if s.is_empty() {
        return Err(err("empty reference".into()));
    }
    if s.contains("://") {
        return Err(err("a reference has no scheme; drop the 'docker://' prefix".into()));
    }
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(Digest::parse(d).map_err(|e| err(e.to_string()))?)),
        None => (s, None),
    };
    // The tag is after the last ':' that follows the last '/'.
    let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        // `host:port` with no slash is a name+tag, which is what distribution does too.
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(t) = tag {
        if !valid_tag(t) {
            return Err(err(format!(
                "invalid tag {t:?} (letters, digits, '_', '.', '-', at most 128)"
            )));
        }
    }
    let (registry, repo) = match name.split_once('/') {
        Some((first, rest)) if looks_like_registry(first) => (first.to_string(), rest.to_string()),
        _ => (DOCKER_HUB.to_string(), name.to_string()),
    };
    valid_host(&registry).map_err(err)?;
    let registry = if registry == "index.docker.io" || registry == "registry-1.docker.io" {
        DOCKER_HUB.to_string()
    } else {
        registry
    };
    if repo.is_empty() {
        return Err(err("missing repository name".into()));
    }
    for c in repo.split('/') {
        if !valid_component(c) {
            let reason = if c.bytes().any(|b| b.is_ascii_uppercase()) {
                format!("repository component {c:?} must be lowercase")
            } else {
                format!("invalid repository component {c:?}")
            };
            return Err(err(reason));
        }
    }
    let repository = if registry == DOCKER_HUB && !repo.contains('/') {
        format!("library/{repo}")
    } else {
        repo
    };
    if repository.len() + registry.len() + 1 > 255 {
        return Err(err("name longer than 255 characters".into()));
    }
    Ok(ImageRef {
        registry,
        repository,
        tag: tag.map(str::to_string),
        digest,
    })
}

/// Where a mirror run writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// `docker://host[:port][/namespace...]`: `namespace` is prepended to every repository.
    Registry {
        registry: String,
        namespace: Option<String>,
    },
    /// `file://dir`: mirror-to-disk.
    Disk(PathBuf),
}

impl Destination {
    pub fn parse(input: &str) -> Result<Self, RefError> {
        let err = |reason: String| RefError {
            input: input.to_string(),
            reason,
        };
        if let Some(path) = input.strip_prefix("file://") {
            if path.is_empty() {
                return Err(err("file:// needs a directory, e.g. file://./archives".into()));
            }
            return Ok(Destination::Disk(PathBuf::from(path)));
        }
        if input.starts_with("oci://") {
            // oc-mirror 4.12's `--use-oci-feature --oci-feature-action=copy` wrote a catalog into
            // an OCI layout; oc-mirror removed that flow, and Ferry reads `oci://` only as a
            // catalog source.
            return Err(err(
                "an oci:// layout is not a destination in Ferry (oc-mirror's removed --oci-feature-action=copy): \
                 `oci://` works as a catalog source in the image set; mirror to file://DIR for removable media \
                 or docker://host for a registry"
                    .into(),
            ));
        }
        let Some(rest) = input.strip_prefix("docker://") else {
            return Err(err(
                "unknown destination scheme: use docker://host[:port][/namespace] for a registry or file://DIR for removable media".into(),
            ));
        };
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() {
            return Err(err(
                "docker:// needs a registry host, e.g. docker://registry.example.com:5000/mirror".into(),
            ));
        }
        if rest.contains('@') {
            return Err(err("a destination cannot carry a digest".into()));
        }
        let (host, ns) = match rest.split_once('/') {
            Some((h, n)) => (h, Some(n)),
            None => (rest, None),
        };
        if !looks_like_registry(host) {
            return Err(err(format!(
                "{host:?} does not look like a registry host (no '.', no port, not localhost); \
                 write docker://{host}.localdomain, docker://{host}:5000 or docker://localhost:5000"
            )));
        }
        valid_host(host).map_err(err)?;
        if let Some(ns) = ns {
            if let Some(last) = ns.rsplit('/').next() {
                if last.contains(':') {
                    return Err(err("a destination cannot carry a tag".into()));
                }
            }
            for c in ns.split('/') {
                if !valid_component(c) {
                    return Err(err(format!("invalid namespace component {c:?}")));
                }
            }
        }
        Ok(Destination::Registry {
            registry: host.to_string(),
            namespace: ns.map(str::to_string),
        })
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Registry {
                registry,
                namespace: Some(ns),
            } => write!(f, "docker://{registry}/{ns}"),
            Destination::Registry {
                registry,
                namespace: None,
            } => write!(f, "docker://{registry}"),
            Destination::Disk(p) => write!(f, "file://{}", p.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_docker_hub() {
        let r = ImageRef::parse("alpine").unwrap();
        assert_eq!(r.name(), "docker.io/library/alpine");
        assert_eq!(r.tag, None);
        let r = ImageRef::parse("bitnami/nginx:1.2").unwrap();
        assert_eq!(r.to_string(), "docker.io/bitnami/nginx:1.2");
    }

    #[test]
    fn ports_ipv6_and_digest() {
        let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let r = ImageRef::parse(&format!("localhost:5000/ns/app:v1@{d}")).unwrap();
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.repository, "ns/app");
        assert_eq!(r.tag.as_deref(), Some("v1"));
        assert_eq!(r.exact(), format!("localhost:5000/ns/app@{d}"));
        let r = ImageRef::parse("[::1]:5000/app:v1").unwrap();
        assert_eq!(r.registry, "[::1]:5000");
        assert!(ImageRef::parse("[::1:5000/app").is_err());
    }

    #[test]
    fn rejects_with_reason() {
        assert!(ImageRef::parse("Quay.io/UPPER/app")
            .unwrap_err()
            .reason
            .contains("lowercase"));
        assert!(ImageRef::parse("quay.io/app:bad tag").is_err());
        assert!(ImageRef::parse("quay.io/app@sha256:123").is_err());
        assert!(ImageRef::parse("").is_err());
    }

    #[test]
    fn destinations() {
        assert_eq!(
            Destination::parse("docker://localhost:5000/a/b").unwrap(),
            Destination::Registry {
                registry: "localhost:5000".into(),
                namespace: Some("a/b".into())
            }
        );
        assert_eq!(
            Destination::parse("file://out").unwrap(),
            Destination::Disk("out".into())
        );
        let e = Destination::parse("docker://registry").unwrap_err();
        assert!(e.reason.contains("registry.localdomain"), "{e}");
        assert!(Destination::parse("registry:5000").is_err());
        assert!(Destination::parse("docker://r.io/ns:tag").is_err());
    }

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn reason(input: &str) -> String {
        match ImageRef::parse(input) {
            Ok(r) => panic!("{input:?} parsed as {r:?}, expected an error"),
            Err(e) => {
                assert_eq!(e.input, input, "the error names the input");
                e.reason
            }
        }
    }

    #[test]
    fn docker_hub_aliases_and_library_prefix() {
        for (input, name) in [
            ("alpine:3.20", "docker.io/library/alpine"),
            ("docker.io/alpine", "docker.io/library/alpine"),
            ("index.docker.io/alpine", "docker.io/library/alpine"),
            ("registry-1.docker.io/bitnami/nginx", "docker.io/bitnami/nginx"),
            ("docker.io/library/alpine", "docker.io/library/alpine"),
            // Only docker.io gets `library/`: other registries keep single-component names.
            ("quay.io/app", "quay.io/app"),
            ("localhost/app", "localhost/app"),
        ] {
            assert_eq!(ImageRef::parse(input).unwrap().name(), name, "{input}");
        }
    }

    #[test]
    fn first_component_is_a_registry_only_with_dot_colon_or_localhost() {
        let r = ImageRef::parse("myregistry/app").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("docker.io", "myregistry/app")
        );
        let r = ImageRef::parse("localhost:5000/app").unwrap();
        assert_eq!((r.registry.as_str(), r.repository.as_str()), ("localhost:5000", "app"));
        let r = ImageRef::parse("registry.local/a/b/c/d:t").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("registry.local", "a/b/c/d")
        );
        // As in docker/distribution, `localhost:5000` alone is the image `localhost`, tag `5000`.
        let r = ImageRef::parse("localhost:5000").unwrap();
        assert_eq!(r.to_string(), "docker.io/library/localhost:5000");
        // A registry host may carry upper case (hosts are case-insensitive); repositories may not.
        assert_eq!(
            ImageRef::parse("Registry.Example.com/app").unwrap().registry,
            "Registry.Example.com"
        );
    }

    #[test]
    fn tag_and_digest_together() {
        let r = ImageRef::parse(&format!("quay.io/ns/app:v1.2@{D}")).unwrap();
        assert_eq!(r.tag.as_deref(), Some("v1.2"));
        assert_eq!(r.digest.as_ref().unwrap().to_string(), D);
        // The digest wins for fetching and for oc-mirror's Exact() form.
        assert_eq!(r.reference(), D);
        assert_eq!(r.exact(), format!("quay.io/ns/app@{D}"));
        assert_eq!(r.to_string(), format!("quay.io/ns/app:v1.2@{D}"));
        let r = ImageRef::parse(&format!("quay.io/ns/app@{D}")).unwrap();
        assert_eq!(r.tag, None);
        assert_eq!(r.tag_or_latest(), "latest");
        let r = ImageRef::parse("quay.io/ns/app").unwrap();
        assert_eq!(r.reference(), "latest");
        assert_eq!(r.exact(), "quay.io/ns/app");
    }

    #[test]
    fn ipv6_hosts() {
        let r = ImageRef::parse(&format!("[2001:db8::1]/ns/app@{D}")).unwrap();
        assert_eq!(r.registry, "[2001:db8::1]");
        assert_eq!(r.repository, "ns/app");
        let r = ImageRef::parse("[::1]:5000/app").unwrap();
        assert_eq!((r.registry.as_str(), r.tag.as_deref()), ("[::1]:5000", None));
        assert!(reason("[::1]:http/app").contains("invalid port"));
        assert!(reason("[zz::1]/app").contains("not an IPv6 address"));
        assert!(reason("[::1]5000/app").contains("':port'"));
        // Unbracketed IPv6 is not a host.
        assert!(reason("::1/app").contains("invalid registry host"));
    }

    #[test]
    fn bad_hosts_and_ports() {
        assert!(reason("localhost:70000/app").contains("invalid port \"70000\""));
        assert!(reason("localhost:/app").contains("invalid port \"\""));
        assert!(reason("-bad.io/app").contains("invalid registry host"));
        assert!(reason("bad-.io/app").contains("invalid registry host"));
        assert!(reason("my_registry.local/app").contains("invalid registry host"));
        assert!(reason("a..b/app").contains("invalid registry host"));
    }

    #[test]
    fn repository_component_grammar() {
        for ok in ["a", "a.b", "a_b", "a__b", "a-b", "a---b", "0x", "a1.b2_c3-d4"] {
            assert!(
                ImageRef::parse(&format!("quay.io/{ok}")).is_ok(),
                "{ok} should be valid"
            );
        }
        for bad in ["a_.b", "-a", "a-", "a.", ".a", "a___b", "a..b", "a b", "a+b"] {
            let r = reason(&format!("quay.io/{bad}"));
            assert!(r.contains("invalid repository component"), "{bad}: {r}");
        }
        assert!(reason("quay.io/App").contains("must be lowercase"));
        assert!(reason("quay.io//app").contains("invalid repository component \"\""));
        assert!(reason("quay.io/app/").contains("invalid repository component \"\""));
        assert!(reason("quay.io/").contains("missing repository name"));
    }

    #[test]
    fn tag_grammar() {
        let max = "t".repeat(128);
        assert_eq!(
            ImageRef::parse(&format!("quay.io/app:{max}")).unwrap().tag.as_deref(),
            Some(max.as_str())
        );
        for bad in ["", ".v1", "-v1", "v1+build", &"t".repeat(129)] {
            let r = reason(&format!("quay.io/app:{bad}"));
            assert!(r.contains("invalid tag"), "{bad:?}: {r}");
        }
        assert_eq!(
            ImageRef::parse("quay.io/app:_v1-A.b").unwrap().tag.as_deref(),
            Some("_v1-A.b")
        );
    }

    #[test]
    fn digest_rules() {
        assert!(reason("quay.io/app@").contains("<algorithm>:<hex>"));
        assert!(
            reason(&format!("quay.io/app@{}", D.to_uppercase().replace("SHA256", "sha256"))).contains("lowercase hex")
        );
        assert!(reason(&format!("quay.io/app@sha512:{}", "a".repeat(128))).contains("only sha256"));
        assert!(reason(&format!("quay.io/app@{D}@{D}")).contains("lowercase hex"));
    }

    #[test]
    fn whole_reference_rules() {
        assert!(reason("docker://quay.io/app").contains("no scheme"));
        assert!(reason("   ").contains("empty"));
        // Surrounding blanks (a pasted value) are dropped, inner ones are not allowed.
        assert_eq!(
            ImageRef::parse("  quay.io/app:v1 \n").unwrap().to_string(),
            "quay.io/app:v1"
        );
        let long = format!("quay.io/{}", "a".repeat(247));
        assert_eq!(long.len(), 255);
        assert!(ImageRef::parse(&long).is_ok());
        assert!(reason(&format!("{long}a")).contains("longer than 255"));
    }

    #[test]
    fn display_parses_back_to_the_same_reference() {
        for input in [
            "alpine",
            "bitnami/nginx:1.2",
            "localhost:5000/ns/app:v1",
            "[::1]:5000/app",
            &format!("quay.io/a/b/c:t@{D}"),
            &format!("registry.example.com/app@{D}"),
        ] {
            let r: ImageRef = input.parse().unwrap();
            let again = ImageRef::parse(&r.to_string()).unwrap();
            assert_eq!(again, r, "{input}");
        }
    }

    #[test]
    fn destination_edge_cases() {
        assert_eq!(
            Destination::parse("docker://[::1]:5000/mirror/").unwrap(),
            Destination::Registry {
                registry: "[::1]:5000".into(),
                namespace: Some("mirror".into())
            }
        );
        assert_eq!(
            Destination::parse("docker://localhost").unwrap().to_string(),
            "docker://localhost"
        );
        assert!(Destination::parse("docker://")
            .unwrap_err()
            .reason
            .contains("needs a registry host"));
        assert!(Destination::parse("file://")
            .unwrap_err()
            .reason
            .contains("needs a directory"));
        assert!(Destination::parse(&format!("docker://r.io/ns@{D}"))
            .unwrap_err()
            .reason
            .contains("digest"));
        assert!(Destination::parse("docker://r.io/Upper")
            .unwrap_err()
            .reason
            .contains("invalid namespace"));
        assert!(Destination::parse("oci://dir")
            .unwrap_err()
            .reason
            .contains("not a destination in Ferry"));
        assert!(Destination::parse("s3://bucket")
            .unwrap_err()
            .reason
            .contains("unknown destination scheme"));
    }
}
