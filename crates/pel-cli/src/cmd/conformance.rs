//! What `pel statetest` and `pel blocktest` share: walking the test files, printing every
//! failure and skip on its own line, and the closing `N passed, N failed, N skipped` line.

use crate::output;
use pel_inputs::ethtests::{CaseResult, TestFileError, Verdict, find_test_files};
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::ExitCode,
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc,
    },
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
/// failed or any file could not be read. Files run on all cores; output stays in file order.
pub(crate) fn run(
    paths: &[PathBuf],
    verbose: bool,
    run_file: impl Fn(&Path) -> Result<Vec<CaseResult>, TestFileError> + Sync,
) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let mut tally = Tally::default();
    let mut files = Vec::new();
    for path in paths {
        match find_test_files(path) {
            Ok(found) => files.extend(found),
            Err(error) => {
                tally.failed += 1;
                output::line(&format!("FAIL {error}"))?;
            }
        }
    }
    // Largest files first, so one long file does not run alone at the end.
    let mut order: Vec<(u64, &PathBuf)> = files
        .iter()
        .map(|file| (std::fs::metadata(file).map_or(0, |m| m.len()), file))
        .collect();
    order.sort_by_key(|(size, _)| std::cmp::Reverse(*size));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        for _ in 0..threads.min(files.len()) {
            let sender = sender.clone();
            let (next, order, run_file) = (&next, &order, &run_file);
            scope.spawn(move || {
                while let Some((_, file)) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if sender.send((file, run_file(file))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        // Results arrive in any order; print each file's once all before it are printed.
        let mut waiting = BTreeMap::new();
        let mut printed = 0;
        for (file, results) in receiver {
            waiting.insert(*file, results);
            while let Some(file) = files.get(printed) {
                let Some(results) = waiting.remove(file) else {
                    break;
                };
                print_file(file, results, verbose, &mut tally)?;
                printed += 1;
            }
        }
        Ok(())
    })?;
    output::line(&format!(
        "{} cases from {} files in {:.1} s",
        tally.passed + tally.failed + tally.skipped,
        files.len(),
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

fn print_file(
    file: &Path,
    results: Result<Vec<CaseResult>, TestFileError>,
    verbose: bool,
    tally: &mut Tally,
) -> std::io::Result<()> {
    let results = match results {
        Ok(results) => results,
        Err(error) => {
            tally.failed += 1;
            return output::line(&format!("FAIL {error}"));
        }
    };
    for result in results {
        report(file, &result, tally)?;
        if verbose {
            for note in &result.notes {
                output::line(&format!(
                    "NOTE {}: {} [{}] {note}",
                    file.display(),
                    result.test,
                    result.fork
                ))?;
            }
        }
    }
    Ok(())
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
