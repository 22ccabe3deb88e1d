//! `pel exec` driven through the real binary: verdict lines, the summary line, exit codes, and
//! clear errors on bad input.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use pel::Chain;
use pel_inputs::{shared, synthetic, write_fixture};
use serde_json::Value;
use std::path::Path;

mod common;

use common::pel;

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or_default()
}

fn generated_fixture(dir: &Path, txs: usize) {
    let chain = Chain::mainnet();
    let (block, state) = synthetic::transfers(txs, 1);
    let block = synthetic::seal(&chain, block, &state).unwrap();
    write_fixture(dir, &block, &state).unwrap();
}

fn edit_json(path: &Path, edit: impl FnOnce(&mut Value)) {
    let mut value: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    edit(&mut value);
    std::fs::write(path, serde_json::to_vec(&value).unwrap()).unwrap();
}

#[test]
fn every_shared_mainnet_block_verifies() {
    let Some(dir) = shared::fixtures_or_skip("fixtures/mainnet") else {
        return;
    };
    let run = pel(&["exec", dir.to_str().unwrap()]);
    let blocks = run
        .stdout
        .lines()
        .filter(|line| line.starts_with("block "))
        .count();
    assert!(blocks >= 40, "{}", run.stdout);
    assert_eq!(
        last_line(&run.stdout),
        format!("{blocks} passed, 0 failed"),
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // Before Byzantium the output says what it could not check.
    let frontier = run.stdout.lines().find(|l| l.contains("  46147 ")).unwrap();
    assert!(frontier.contains("receiptsRoot unchecked"), "{frontier}");
}

#[test]
fn generated_block_passes_and_json_has_one_object_per_block() {
    let root = tempfile::tempdir().unwrap();
    generated_fixture(&root.path().join("a"), 5);
    generated_fixture(&root.path().join("b"), 0);
    let run = pel(&[
        "exec",
        "--engine",
        "sequential",
        root.path().to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(last_line(&run.stdout), "2 passed, 0 failed");
    assert!(run.stdout.contains("Cancun"), "{}", run.stdout);

    let run = pel(&["exec", "--json", root.path().to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let objects: Vec<Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(objects.len(), 2);
    assert_eq!(objects[0]["passed"], Value::Bool(true));
    assert_eq!(objects[0]["txs"], Value::from(5));
    assert_eq!(objects[0]["gas_used"], Value::from(5 * 21_000));
    assert_eq!(objects[0]["block"], Value::from(19_500_000));
    assert_eq!(last_line(&run.stderr), "2 passed, 0 failed");
}

#[test]
fn header_mismatch_names_the_field_and_both_values() {
    let dir = tempfile::tempdir().unwrap();
    generated_fixture(dir.path(), 2);
    edit_json(&dir.path().join("block.json"), |block| {
        block["gasUsed"] = Value::from("0x1")
    });
    let run = pel(&["exec", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("FAILED  gasUsed: header 1 != executed 42000"),
        "{}",
        run.stdout
    );
    assert_eq!(last_line(&run.stdout), "0 passed, 1 failed");
}

#[test]
fn sender_that_cannot_pay_fails_the_block_naming_the_transaction() {
    let dir = tempfile::tempdir().unwrap();
    generated_fixture(dir.path(), 2);
    edit_json(&dir.path().join("pre_state.json"), |state| {
        for account in state.as_object_mut().unwrap().values_mut() {
            account["balance"] = Value::from("0x0");
        }
    });
    let run = pel(&["exec", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("FAILED  transaction 0 (0x"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.to_lowercase().contains("funds"),
        "{}",
        run.stdout
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn contract_code_missing_from_the_state_fails_the_block() {
    let dir = tempfile::tempdir().unwrap();
    generated_fixture(dir.path(), 1);
    let mut receiver = String::new();
    edit_json(&dir.path().join("block.json"), |block| {
        receiver = block["transactions"][0]["to"].as_str().unwrap().to_owned();
    });
    let code_hash = format!("0x{}", "cd".repeat(32));
    edit_json(&dir.path().join("pre_state.json"), |state| {
        state[&receiver] =
            serde_json::json!({ "balance": "0x0", "nonce": 1, "codeHash": code_hash });
    });
    let run = pel(&["exec", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains(&format!("code with hash {code_hash} is missing")),
        "{}",
        run.stdout
    );
}

#[test]
fn malformed_fixture_fails_alone_and_the_run_goes_on() {
    let root = tempfile::tempdir().unwrap();
    generated_fixture(&root.path().join("1"), 1);
    generated_fixture(&root.path().join("2"), 1);
    let broken = root.path().join("2").join("block.json");
    std::fs::write(&broken, b"{\"number\": \"0x1\", ").unwrap();
    let run = pel(&["exec", root.path().to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("malformed JSON"), "{}", run.stdout);
    assert!(
        run.stdout.contains(broken.to_str().unwrap()),
        "{}",
        run.stdout
    );
    assert_eq!(last_line(&run.stdout), "1 passed, 1 failed");
}

#[test]
fn path_that_is_no_fixture_fails() {
    let dir = tempfile::tempdir().unwrap();
    let run = pel(&["exec", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("not a block fixture"), "{}", run.stdout);
    assert_eq!(last_line(&run.stdout), "0 passed, 1 failed");
}

#[test]
fn unknown_engine_is_a_usage_error() {
    let run = pel(&["exec", "--engine", "quantum", "."]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown engine `quantum`"),
        "{}",
        run.stderr
    );
}

#[test]
fn parallel_engine_reports_its_statistics_in_json() {
    let tmp = tempfile::tempdir().unwrap();
    generated_fixture(tmp.path(), 40);
    let dir = tmp.path().to_str().unwrap();
    let run = pel(&[
        "exec",
        "--engine",
        "parallel",
        "--threads",
        "2",
        "--fallback",
        "never",
        "--json",
        dir,
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let report: Value = serde_json::from_str(run.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(report["passed"], true);
    let stats = &report["stats"];
    assert_eq!(stats["mode"], "parallel");
    assert_eq!(stats["threads"], 2);
    assert!(stats["executions"].as_u64().unwrap() >= 40);
    for field in [
        "re_executions",
        "validations",
        "validation_aborts",
        "suspensions",
    ] {
        assert!(stats[field].is_u64(), "{field} missing: {stats}");
    }
    assert!(stats["parallel_ms"].as_f64().unwrap() > 0.0);
    // Sequential has no statistics; the block line of text names the mode.
    let run = pel(&["exec", "--json", dir]);
    let report: Value = serde_json::from_str(run.stdout.lines().next().unwrap()).unwrap();
    assert!(report["stats"].is_null());
    let run = pel(&["exec", "--engine", "parallel", "--threads", "2", dir]);
    assert!(
        run.stdout.contains("[sequential: small block]"),
        "{}",
        run.stdout
    );
    let run = pel(&[
        "exec",
        "--engine",
        "parallel",
        "--threads",
        "2",
        "--fallback",
        "never",
        dir,
    ]);
    assert!(
        run.stdout.contains("[parallel on 2 threads: "),
        "{}",
        run.stdout
    );
}

#[test]
fn zero_threads_is_a_usage_error() {
    let run = pel(&["exec", "--engine", "parallel", "--threads", "0"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--threads"), "{}", run.stderr);
}
