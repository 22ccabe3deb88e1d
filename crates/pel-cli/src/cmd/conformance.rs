//! What `pel statetest` and `pel blocktest` share: walking the test files, printing every
//! failure and skip on its own line, and the closing `N passed, N failed, N skipped` line.

use crate::output;
use pel_inputs::ethtests::{CaseResult, TestFileError, Verdict, find_test_files};
use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    time::Instant,
};

/// Counts of a run.
#[derive(Debug, Default)]
struct Tally {
    passed: usize,
    failed: usize,
    skipped: usize,
}

/// Runs `run_file` on every test file under `paths` and reports; exit code 1 if any case
/// failed or any file could not be read.
pub(crate) fn run(
    paths: &[PathBuf],
    run_file: impl Fn(&Path) -> Result<Vec<CaseResult>, TestFileError>,
) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let mut tally = Tally::default();
    let mut files = 0usize;
    for path in paths {
        let found = match find_test_files(path) {
            Ok(found) => found,
            Err(error) => {
                tally.failed += 1;
                output::line(&format!("FAIL {error}"))?;
                continue;
            }
        };
        for file in found {
            files += 1;
            match run_file(&file) {
                Ok(results) => {
                    for result in results {
                        report(&file, &result, &mut tally)?;
                    }
                }
                Err(error) => {
                    tally.failed += 1;
                    output::line(&format!("FAIL {error}"))?;
                }
            }
        }
    }
    output::line(&format!(
        "{} cases from {files} files in {:.1} s",
        tally.passed + tally.failed + tally.skipped,
        start.elapsed().as_secs_f64()
    ))?;
    output::line(&format!(
        "{} passed, {} failed, {} skipped",
        tally.passed, tally.failed, tally.skipped
    ))?;
    Ok(if tally.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn report(file: &Path, result: &CaseResult, tally: &mut Tally) -> std::io::Result<()> {
    match result.verdict {
        Verdict::Passed => {
            tally.passed += 1;
            Ok(())
        }
        Verdict::Failed(_) => {
            tally.failed += 1;
            output::line(&format!("FAIL {}: {result}", file.display()))
        }
        Verdict::Skipped(_) => {
            tally.skipped += 1;
            output::line(&format!("SKIP {}: {result}", file.display()))
        }
    }
}
