//! The fixture loader: round trips of generated blocks, every shared mainnet fixture, and
//! bad input that must give a clear error naming the file, block and field.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use pel::{Chain, verify::verify_header};
use pel_inputs::{
    FixtureErrorKind, error::SenderProblem, find_fixtures, load_fixture, shared, synthetic,
    write_fixture,
};
use serde_json::Value;
use std::path::Path;

fn generated_fixture(dir: &Path) {
    let chain = Chain::mainnet();
    let (block, state) = synthetic::transfers(3, 7);
    let block = synthetic::seal(&chain, block, &state).unwrap();
    write_fixture(dir, &block, &state).unwrap();
}

fn edit_json(path: &Path, edit: impl FnOnce(&mut Value)) {
    let mut value: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    edit(&mut value);
    std::fs::write(path, serde_json::to_vec(&value).unwrap()).unwrap();
}

#[test]
fn generated_fixture_round_trips_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    generated_fixture(dir.path());
    let fixture = load_fixture(dir.path()).unwrap();
    assert_eq!(fixture.block.transactions.len(), 3);
    let chain = Chain::mainnet();
    let output = pel::Engine::Sequential
        .execute(&chain, &fixture.block, &fixture.state)
        .unwrap();
    let verification = verify_header(&chain, &fixture.block.header, &output);
    assert!(verification.passed(), "{:?}", verification.mismatches);
    assert_eq!(output.gas_used, 3 * 21_000);
}

#[test]
fn every_shared_mainnet_fixture_loads() {
    let Some(dir) = shared::fixtures_or_skip("fixtures/mainnet") else {
        return;
    };
    let dirs = find_fixtures(&dir).unwrap();
    assert!(dirs.len() >= 40, "found only {} fixtures", dirs.len());
    for dir in dirs {
        let fixture = load_fixture(&dir).unwrap_or_else(|e| panic!("{e}"));
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(fixture.block.header.number.to_string(), name);
    }
}

#[test]
fn truncated_json_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    generated_fixture(dir.path());
    let path = dir.path().join("block.json");
    let text = std::fs::read(&path).unwrap();
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    let err = load_fixture(dir.path()).unwrap_err();
    assert!(matches!(err.kind, FixtureErrorKind::Json(_)), "{err}");
    assert!(err.to_string().contains("block.json"), "{err}");
    assert!(err.to_string().contains("malformed JSON"), "{err}");
}

#[test]
fn missing_header_field_is_named() {
    let dir = tempfile::tempdir().unwrap();
    generated_fixture(dir.path());
    edit_json(&dir.path().join("block.json"), |block| {
        block.as_object_mut().unwrap().remove("gasLimit");
    });
    let err = load_fixture(dir.path()).unwrap_err();
    assert!(err.to_string().contains("gasLimit"), "{err}");
    assert!(err.to_string().contains("block.json"), "{err}");
}

#[test]
fn missing_transaction_field_names_the_transaction() {
    let dir = tempfile::tempdir().unwrap();
    generated_fixture(dir.path());
    edit_json(&dir.path().join("block.json"), |block| {
        block["transactions"][1]
            .as_object_mut()
            .unwrap()
            .remove("gas");
    });
    let err = load_fixture(dir.path()).unwrap_err();
    assert!(
        matches!(err.kind, FixtureErrorKind::Transaction { index: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("transaction 1"), "{err}");
    assert!(err.to_string().contains("gas"), "{err}");
}

#[test]
fn unknown_transaction_type_is_named() {
    let dir = tempfile::tempdir().unwrap();
    generated_fixture(dir.path());
    edit_json(&dir.path().join("block.json"), |block| {
        block["transactions"][2]["type"] = Value::from("0x7f");
    });
    let err = load_fixture(dir.path()).unwrap_err();
    assert!(
        matches!(err.kind, FixtureErrorKind::UnknownTxType { index: 2, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("unknown transaction type \"0x7f\""),
        "{err}"
    );
    assert!(err.to_string().contains("block 19500000"), "{err}");
}

#[test]
fn forged_sender_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    generated_fixture(dir.path());
    edit_json(&dir.path().join("block.json"), |block| {
        block["transactions"][0]["from"] =
            Value::from("0x00000000000000000000000000000000000000ff");
    });
    let err = load_fixture(dir.path()).unwrap_err();
    let FixtureErrorKind::Sender {
        index: 0,
        problem: SenderProblem::Mismatch { .. },
    } = &err.kind
    else {
        panic!("{err}")
    };
    assert!(err.to_string().contains("signature recovers to"), "{err}");
}

#[test]
fn malformed_account_names_the_account_and_field() {
    let dir = tempfile::tempdir().unwrap();
    generated_fixture(dir.path());
    let mut account = String::new();
    edit_json(&dir.path().join("pre_state.json"), |state| {
        let (address, entry) = state.as_object_mut().unwrap().iter_mut().next().unwrap();
        account = address.clone();
        entry["balance"] = Value::from("not a number");
    });
    let err = load_fixture(dir.path()).unwrap_err();
    assert!(err.to_string().contains("pre_state.json"), "{err}");
    assert!(err.to_string().contains(&account), "{err}");
}

#[test]
fn missing_pre_state_file_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    generated_fixture(dir.path());
    std::fs::remove_file(dir.path().join("pre_state.json")).unwrap();
    let err = load_fixture(dir.path()).unwrap_err();
    assert!(matches!(err.kind, FixtureErrorKind::Io(_)), "{err}");
    assert!(err.to_string().contains("pre_state.json"), "{err}");
}

#[test]
fn folder_without_fixtures_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = find_fixtures(dir.path()).unwrap_err();
    assert!(matches!(err.kind, FixtureErrorKind::NotAFixture), "{err}");
}
