//! Where the shared, read-only data lives, and how tests treat its absence.

use std::path::PathBuf;

/// The shared data folder: `PEL_SHARED` if set, else `../shared` beside the workspace.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("PEL_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
            dir.canonicalize().unwrap_or(dir)
        }
    }
}

/// A folder under the shared data for a test, or `None` after printing a visible skip.
///
/// # Panics
/// When the folder is absent and `PEL_REQUIRE_FIXTURES=1` (as in CI): missing data then fails
/// the test instead of skipping it.
pub fn fixtures_or_skip(relative: &str) -> Option<PathBuf> {
    let dir = shared_dir().join(relative);
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("PEL_REQUIRE_FIXTURES").as_deref() != Ok("1"),
        "fixtures required (PEL_REQUIRE_FIXTURES=1) but {} is absent",
        dir.display()
    );
    eprintln!(
        "SKIPPED: {} is absent (set PEL_SHARED to the shared data folder)",
        dir.display()
    );
    None
}
