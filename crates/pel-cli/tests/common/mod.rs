//! Running the real `pel` binary from a test.

#![allow(clippy::unwrap_used)]

use std::process::Command;

/// What a run of `pel` printed and how it exited.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs `pel` with `args` and waits for it.
pub(crate) fn pel(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_pel"))
        .args(args)
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
