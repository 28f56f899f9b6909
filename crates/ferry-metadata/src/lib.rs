//! Ferry: oc-mirror v1alpha2 metadata (pastMirror, associations) and its local and registry backends.
