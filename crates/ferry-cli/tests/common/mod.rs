//! Running the `ferry` binary as a user would, shared by the CLI test files.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

pub const FERRY: &str = env!("CARGO_BIN_EXE_ferry");

/// Run `ferry` in `cwd`, with the user's own stored logins and auth files kept out of the test.
pub fn ferry(args: &[&str], cwd: &Path) -> Output {
    Command::new(FERRY)
        .args(args)
        .current_dir(cwd)
        .env("HOME", cwd)
        .env("XDG_CONFIG_HOME", cwd.join("config"))
        .env("XDG_RUNTIME_DIR", cwd.join("run"))
        .env_remove("REGISTRY_AUTH_FILE")
        .output()
        .expect("run ferry")
}

/// stdout and stderr as text.
pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}
