//! GeneralStateTests: one transaction on a full pre-state, checked by post-state root and logs
//! hash for every fork and every (data, gas, value) variant the test lists.
//!
//! The transaction is taken from each variant's `txbytes` (the signed transaction as sent), so
//! it goes through the same decoding and sender recovery as any other transaction. It runs as
//! a block of one transaction without block-level changes ([`pel::Engine::execute_transactions`]);
//! `BLOCKHASH` of block `n` is `keccak256` of `n` written in decimal, as the format defines.

use super::{CaseResult, TestFileError, Verdict, field, fork, malformed, read_tests, test_object};
use crate::FixtureErrorKind;
use alloy_consensus::{Header, TxEnvelope, transaction::SignerRecoverable};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{Address, B256, Bytes, Log, U256, keccak256};
use pel::{BlockInput, Engine, InMemoryState};
use serde::Deserialize;
use serde_json::Value;
use std::{collections::BTreeMap, path::Path};

/// One state test as written in its file.
#[derive(Debug)]
struct StateTest {
    env: Env,
    pre: Value,
    transaction: TransactionJson,
    post: BTreeMap<String, Vec<PostJson>>,
}

/// The block the transaction runs in.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Env {
    current_coinbase: Address,
    current_difficulty: U256,
    current_gas_limit: U256,
    current_number: U256,
    current_timestamp: U256,
    current_base_fee: Option<U256>,
    current_random: Option<B256>,
    current_excess_blob_gas: Option<U256>,
}

/// The part of the transaction template the runner checks: its sender. The transaction itself
/// comes signed in each variant's `txbytes`.
#[derive(Debug, Deserialize)]
struct TransactionJson {
    sender: Address,
}

/// The expected outcome of one variant under one fork.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostJson {
    hash: B256,
    logs: B256,
    indexes: Indexes,
    txbytes: Bytes,
    expect_exception: Option<String>,
}

/// Which data, gas and value entries of the template a variant uses.
#[derive(Debug, Deserialize)]
struct Indexes {
    data: usize,
    gas: usize,
    value: usize,
}

/// Runs every test in the file at `path` on `engine`, for every fork the test lists, or only
/// for `only_fork` when given.
pub fn run_file(
    engine: Engine,
    path: &Path,
    only_fork: Option<&str>,
) -> Result<Vec<CaseResult>, TestFileError> {
    let mut results = Vec::new();
    for (name, json) in read_tests(path)? {
        match decode(json) {
            Ok(test) => run_test(engine, &name, test, only_fork, &mut results),
            Err(error) => results.push(malformed(&name, error)),
        }
    }
    Ok(results)
}

fn decode(json: Value) -> Result<StateTest, FixtureErrorKind> {
    let mut test = test_object(json)?;
    Ok(StateTest {
        env: field(&mut test, "env")?,
        pre: field(&mut test, "pre")?,
        transaction: field(&mut test, "transaction")?,
        post: field(&mut test, "post")?,
    })
}

fn run_test(
    engine: Engine,
    name: &str,
    test: StateTest,
    only_fork: Option<&str>,
    results: &mut Vec<CaseResult>,
) {
    let pre = match crate::json::parse_pre_state(test.pre) {
        Ok(pre) => with_block_hashes(pre, &test.env),
        Err(error) => return results.push(malformed(name, error)),
    };
    let pre_root = pre.state_root();
    let header = header(&test.env);
    for (fork_name, posts) in &test.post {
        if only_fork.is_some_and(|only| only != fork_name) {
            continue;
        }
        let chain = fork::chain_for(fork_name);
        for post in posts {
            let verdict = match (&chain, &header) {
                (None, _) => Verdict::Skipped(format!("fork {fork_name} is not supported")),
                (Some(_), Err(error)) => Verdict::Failed(error.clone()),
                (Some(chain), Ok(header)) => {
                    let case = Case {
                        header,
                        sender: test.transaction.sender,
                        pre: &pre,
                        pre_root,
                    };
                    run_case(engine, chain, &case, post)
                        .err()
                        .map_or(Verdict::Passed, Verdict::Failed)
                }
            };
            let Indexes { data, gas, value } = &post.indexes;
            results.push(CaseResult {
                test: name.to_owned(),
                fork: fork_name.clone(),
                case: format!("d{data} g{gas} v{value}"),
                verdict,
                notes: Vec::new(),
            });
        }
    }
}

/// What every variant of a test shares: the block, the sender, the pre-state and its root.
struct Case<'a> {
    header: &'a Header,
    sender: Address,
    pre: &'a InMemoryState,
    pre_root: B256,
}

/// Runs one variant; `Err` says what differs from the expectation.
fn run_case(
    engine: Engine,
    chain: &pel::Chain,
    case: &Case<'_>,
    post: &PostJson,
) -> Result<(), String> {
    let Case {
        header,
        sender,
        pre,
        pre_root,
    } = *case;
    let executed = decode_transaction(&post.txbytes, sender).and_then(|tx| {
        let block = BlockInput {
            header: header.clone(),
            transactions: vec![tx],
            ommers: Vec::new(),
            withdrawals: None,
        };
        engine
            .execute_transactions(chain, &block, pre)
            .map_err(|e| e.to_string())
    });
    match (executed, &post.expect_exception) {
        (Ok(_), Some(expected)) => Err(format!("transaction accepted, expected {expected}")),
        (Err(error), None) => Err(format!("transaction rejected: {error}")),
        (Err(_), Some(_)) if pre_root != post.hash => Err(format!(
            "transaction rejected as expected, but the pre-state root is {pre_root}, expected {}",
            post.hash
        )),
        (Err(_), Some(_)) => Ok(()),
        (Ok(output), None) => {
            let logs: Vec<&Log> = output.receipts.iter().flat_map(|r| r.logs()).collect();
            let logs_hash = keccak256(alloy_rlp::encode(&logs));
            let mut state = pre.clone();
            state.apply(&output.state);
            let root = state.state_root();
            if root != post.hash {
                Err(format!("state root {root}, expected {}", post.hash))
            } else if logs_hash != post.logs {
                Err(format!("logs hash {logs_hash}, expected {}", post.logs))
            } else {
                Ok(())
            }
        }
    }
}

/// Decodes a signed transaction and recovers its sender, which must be the test's `sender`.
fn decode_transaction(
    bytes: &[u8],
    sender: Address,
) -> Result<alloy_consensus::transaction::Recovered<TxEnvelope>, String> {
    let tx = TxEnvelope::decode_2718_exact(bytes).map_err(|e| format!("txbytes: {e}"))?;
    let tx = tx
        .try_into_recovered()
        .map_err(|e| format!("txbytes: signature: {e}"))?;
    if tx.signer() != sender {
        return Err(format!(
            "txbytes are signed by {}, the test's sender is {sender}",
            tx.signer()
        ));
    }
    Ok(tx)
}

/// The header of the block the transaction runs in.
fn header(env: &Env) -> Result<Header, String> {
    let u64_of = |field: &str, value: U256| {
        u64::try_from(value).map_err(|_| format!("env: {field} {value} exceeds 64 bits"))
    };
    Ok(Header {
        beneficiary: env.current_coinbase,
        difficulty: env.current_difficulty,
        gas_limit: u64_of("currentGasLimit", env.current_gas_limit)?,
        number: u64_of("currentNumber", env.current_number)?,
        timestamp: u64_of("currentTimestamp", env.current_timestamp)?,
        base_fee_per_gas: env
            .current_base_fee
            .map(|fee| u64_of("currentBaseFee", fee))
            .transpose()?,
        mix_hash: env.current_random.unwrap_or_default(),
        excess_blob_gas: env
            .current_excess_blob_gas
            .map(|gas| u64_of("currentExcessBlobGas", gas))
            .transpose()?,
        ..Header::default()
    })
}

/// Adds the hashes `BLOCKHASH` may ask for: the 256 blocks before the current one.
fn with_block_hashes(mut state: InMemoryState, env: &Env) -> InMemoryState {
    let current = u64::try_from(env.current_number).unwrap_or(u64::MAX);
    for number in current.saturating_sub(256)..current {
        state.insert_block_hash(number, keccak256(number.to_string()));
    }
    state
}
