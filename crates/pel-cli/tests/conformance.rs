//! `pel statetest` and `pel blocktest` driven through the real binary: the full ethereum/tests
//! suites pass, a wrong expectation is reported as a failure, and malformed files are named
//! while the run goes on.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use pel_inputs::shared;
use serde_json::Value;
use std::path::Path;

mod common;

use common::pel;

/// The counts of the closing `N passed, N failed, N skipped` line.
fn summary(stdout: &str) -> (usize, usize, usize) {
    let last = stdout.lines().last().unwrap_or_default();
    let numbers: Vec<usize> = last
        .split(", ")
        .map(|part| part.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        last,
        format!(
            "{} passed, {} failed, {} skipped",
            numbers[0], numbers[1], numbers[2]
        )
    );
    (numbers[0], numbers[1], numbers[2])
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_vec(value).unwrap()).unwrap();
}

#[test]
fn every_general_state_test_passes() {
    let Some(dir) = shared::fixtures_or_skip("fixtures/ethereum-tests/GeneralStateTests") else {
        return;
    };
    let run = pel(&["statetest", dir.to_str().unwrap()]);
    let (passed, failed, skipped) = summary(&run.stdout);
    assert_eq!((failed, skipped), (0, 0), "{}", run.stdout);
    assert!(passed > 21_000, "{}", run.stdout);
    assert_eq!(run.code, 0);
}

#[test]
fn every_blockchain_test_passes_and_invalid_blocks_are_rejected() {
    let Some(dir) = shared::fixtures_or_skip("fixtures/ethereum-tests/BlockchainTests") else {
        return;
    };
    let run = pel(&["blocktest", "--verbose", dir.to_str().unwrap()]);
    let (passed, failed, skipped) = summary(&run.stdout);
    assert_eq!((failed, skipped), (0, 0), "{}", run.stdout);
    assert!(passed >= 573, "{}", run.stdout);
    // Every block the tests mark invalid was rejected, each reported with the expectation.
    let rejected = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("NOTE") && l.contains("(expected "))
        .count();
    assert!(rejected >= 220, "{rejected} rejections reported");
    assert_eq!(run.code, 0);
}

/// The parallel engine, forced to run Block-STM even on one-transaction blocks, passes the
/// same cases as the sequential engine at every thread count.
#[test]
fn the_parallel_engine_passes_both_suites_at_1_2_4_and_8_threads() {
    let (Some(states), Some(blocks)) = (
        shared::fixtures_or_skip("fixtures/ethereum-tests/GeneralStateTests"),
        shared::fixtures_or_skip("fixtures/ethereum-tests/BlockchainTests"),
    ) else {
        return;
    };
    for threads in ["1", "2", "4", "8"] {
        let engine = [
            "--engine",
            "parallel",
            "--fallback",
            "never",
            "--threads",
            threads,
        ];
        let run = pel(&[&["statetest"][..], &engine, &[states.to_str().unwrap()]].concat());
        let (passed, failed, skipped) = summary(&run.stdout);
        assert_eq!(
            (failed, skipped),
            (0, 0),
            "{threads} threads: {}",
            run.stdout
        );
        assert!(passed > 21_000);
        let run = pel(&[&["blocktest"][..], &engine, &[blocks.to_str().unwrap()]].concat());
        let (passed, failed, skipped) = summary(&run.stdout);
        assert_eq!(
            (failed, skipped),
            (0, 0),
            "{threads} threads: {}",
            run.stdout
        );
        assert!(passed >= 573);
    }
}

#[test]
fn a_wrong_state_root_or_logs_hash_fails_the_case() {
    let Some(dir) = shared::fixtures_or_skip("fixtures/ethereum-tests/GeneralStateTests") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("add11.json");
    let mut tests = read_json(&dir.join("VMTests/vmArithmeticTest/add.json"));
    let test = tests.as_object_mut().unwrap().values_mut().next().unwrap();
    let post = &mut test["post"]["Cancun"][0];
    post["hash"] = Value::from(format!("0x{}", "11".repeat(32)));
    write_json(&file, &tests);
    let run = pel(&["statetest", "--fork", "Cancun", file.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert_eq!(summary(&run.stdout).1, 1, "{}", run.stdout);
    let failure = run.stdout.lines().find(|l| l.starts_with("FAIL")).unwrap();
    assert!(failure.contains("add.json") || failure.contains("add11.json"));
    assert!(
        failure.contains("[Cancun] d0 g0 v0: state root"),
        "{failure}"
    );
}

#[test]
fn an_accepted_invalid_block_or_a_wrong_head_fails_the_test() {
    let Some(dir) = shared::fixtures_or_skip("fixtures/ethereum-tests/BlockchainTests") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // A valid chain whose test claims a block is invalid: pel accepts it, so the test fails.
    let source = dir.join("ValidBlocks/bcExample/basefeeExample.json");
    let mut tests = read_json(&source);
    let test = tests.as_object_mut().unwrap().values_mut().next().unwrap();
    test["blocks"][0]["expectException"] = Value::from("BlockException.MADE_UP");
    write_json(&tmp.path().join("accepted.json"), &tests);
    // A valid chain whose last block hash is wrong.
    let mut tests = read_json(&source);
    let test = tests.as_object_mut().unwrap().values_mut().next().unwrap();
    test["lastblockhash"] = Value::from(format!("0x{}", "22".repeat(32)));
    write_json(&tmp.path().join("head.json"), &tests);

    let run = pel(&["blocktest", tmp.path().to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert_eq!(summary(&run.stdout), (0, 2, 0), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("block 0 was accepted, expected BlockException.MADE_UP")
    );
    assert!(run.stdout.contains("expected lastblockhash 0x2222"));
}

#[test]
fn malformed_files_are_named_and_the_run_goes_on() {
    let Some(dir) = shared::fixtures_or_skip("fixtures/ethereum-tests/GeneralStateTests") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a_truncated.json"), b"{\"test\": {\"env\"").unwrap();
    std::fs::write(
        tmp.path().join("b_no_env.json"),
        br#"{"broken_test": {"pre": {}, "transaction": {}, "post": {}}}"#,
    )
    .unwrap();
    std::fs::copy(
        dir.join("VMTests/vmArithmeticTest/add.json"),
        tmp.path().join("c_good.json"),
    )
    .unwrap();
    let run = pel(&["statetest", tmp.path().to_str().unwrap()]);
    assert_eq!(run.code, 1);
    let fails: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("FAIL"))
        .collect();
    assert_eq!(fails.len(), 2, "{}", run.stdout);
    assert!(fails[0].contains("a_truncated.json") && fails[0].contains("malformed JSON"));
    assert!(fails[1].contains("b_no_env.json") && fails[1].contains("broken_test"));
    assert!(fails[1].contains("missing field `env`"), "{}", fails[1]);
    assert!(!fails[1].contains("panicked"));
    let (passed, failed, _) = summary(&run.stdout);
    assert_eq!(failed, 2);
    assert!(passed > 0, "the good file after the bad ones still ran");
}

#[test]
fn an_unknown_fork_is_a_usage_error() {
    let run = pel(&["statetest", "--fork", "Atlantis", "."]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown fork `Atlantis`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Cancun"));
}
