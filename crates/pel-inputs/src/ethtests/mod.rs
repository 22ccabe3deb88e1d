//! Runners for the ethereum/tests conformance suites: GeneralStateTests ([`state_test`]) and
//! BlockchainTests ([`blockchain_test`]).
//!
//! Each runner executes through a [`pel::Engine`], so every engine is held to the same suites,
//! and reports one [`CaseResult`] per case. A malformed test is a failed case naming the file
//! and the test; a file that is not JSON at all is a [`TestFileError`]; either way the run goes
//! on with the next test.

pub mod blockchain_test;
pub mod fork;
pub mod state_test;

use crate::{FixtureError, FixtureErrorKind};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::{
    fmt,
    path::{Path, PathBuf},
};

/// The verdict on one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The engine produced what the test expects.
    Passed,
    /// It did not; the text says what differs.
    Failed(String),
    /// The case was not run; the text says why.
    Skipped(String),
}

/// One case of a test: a (fork, data, gas, value) combination of a state test, or a whole
/// blockchain test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    /// The test's name inside its file.
    pub test: String,
    /// The fork the case runs under, as the test names it.
    pub fork: String,
    /// Which variant of the test (`d0 g1 v0` for a state test), empty if there is one.
    pub case: String,
    /// What happened.
    pub verdict: Verdict,
    /// What is worth showing besides the verdict: for a blockchain test, why each block the
    /// test expects to be invalid was rejected, next to the test's expected exception.
    pub notes: Vec<String>,
}

impl fmt::Display for CaseResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.test, self.fork)?;
        if !self.case.is_empty() {
            write!(f, " {}", self.case)?;
        }
        match &self.verdict {
            Verdict::Passed => write!(f, ": passed"),
            Verdict::Failed(why) => write!(f, ": {why}"),
            Verdict::Skipped(why) => write!(f, ": skipped, {why}"),
        }
    }
}

/// A test file that could not be read as a set of tests.
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", path.display())]
pub struct TestFileError {
    /// The file at fault.
    pub path: PathBuf,
    /// What is wrong.
    #[source]
    pub kind: FixtureErrorKind,
}

/// Every `.json` file under `path` (or `path` itself), sorted so runs are reproducible.
pub fn find_test_files(path: &Path) -> Result<Vec<PathBuf>, FixtureError> {
    let error = |kind| FixtureError {
        path: path.to_path_buf(),
        block: None,
        kind,
    };
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut dirs = vec![path.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| error(e.into()))? {
            let path = entry.map_err(|e| error(e.into()))?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Reads a test file: a JSON object of tests keyed by name.
fn read_tests(path: &Path) -> Result<Map<String, Value>, TestFileError> {
    let error = |kind| TestFileError {
        path: path.to_path_buf(),
        kind,
    };
    let text = std::fs::read(path).map_err(|e| error(e.into()))?;
    match serde_json::from_slice(&text).map_err(|e| error(FixtureErrorKind::Json(e)))? {
        Value::Object(tests) => Ok(tests),
        _ => Err(error(FixtureErrorKind::Field {
            field: "top level".to_owned(),
            source: serde::de::Error::custom("expected an object of tests keyed by name"),
        })),
    }
}

/// A test's JSON object, for decoding field by field so an error names the field.
fn test_object(json: Value) -> Result<Map<String, Value>, FixtureErrorKind> {
    match json {
        Value::Object(fields) => Ok(fields),
        _ => Err(FixtureErrorKind::Field {
            field: "test".to_owned(),
            source: serde::de::Error::custom("expected an object"),
        }),
    }
}

/// Decodes the required field `name` of a test.
fn field<T: DeserializeOwned>(
    test: &mut Map<String, Value>,
    name: &'static str,
) -> Result<T, FixtureErrorKind> {
    let value = test
        .remove(name)
        .ok_or(FixtureErrorKind::MissingField(name))?;
    crate::json::from_value(value, name)
}

/// Decodes the optional field `name` of a test.
fn optional_field<T: DeserializeOwned>(
    test: &mut Map<String, Value>,
    name: &'static str,
) -> Result<Option<T>, FixtureErrorKind> {
    test.remove(name)
        .map(|value| crate::json::from_value(value, name))
        .transpose()
}

/// A case result for a test that could not be decoded.
fn malformed(test: &str, error: impl fmt::Display) -> CaseResult {
    CaseResult {
        test: test.to_owned(),
        fork: "-".to_owned(),
        case: String::new(),
        verdict: Verdict::Failed(format!("malformed test: {error}")),
        notes: Vec::new(),
    }
}
