//! Ferry: ImageSetConfiguration (mirror.openshift.io/v1alpha2) parsing, defaults and validation.
