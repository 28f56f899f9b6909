//! One integration-test binary (one link on a 2-core machine) for ferry-config.

mod errors;
mod model;
mod validation;
