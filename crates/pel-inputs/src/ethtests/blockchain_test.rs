//! BlockchainTests: a chain of RLP-encoded blocks imported one by one from a genesis state.
//!
//! Each block is decoded, checked against its parent and its body roots, its senders
//! recovered, executed through the engine, and its results checked against the header
//! (gas, bloom, receipts root, blob gas, state root) with [`pel::validation`]. A block the
//! test marks invalid must be rejected, and the chain goes on from the last valid block; at
//! the end the head must be the test's last block and its state the test's post-state.
//! Side chains work: every imported block's state is kept by hash, so a block may build on any
//! earlier one.

use super::{
    CaseResult, TestFileError, Verdict, field, fork, malformed, optional_field, read_tests,
    test_object,
};
use crate::FixtureErrorKind;
use crate::json::parse_pre_state;
use alloy_consensus::{Block, Header, TxEnvelope};
use alloy_primitives::{B256, Bytes, map::B256Map};
use alloy_rlp::Decodable;
use pel::{
    Chain, Engine, InMemoryState,
    validation::{recover_senders, validate_body, validate_execution, validate_header},
};
use serde::Deserialize;
use serde_json::Value;
use std::path::Path;

/// One blockchain test as written in its file.
#[derive(Debug)]
struct BlockchainTest {
    blocks: Vec<BlockJson>,
    genesis_rlp: Bytes,
    pre: Value,
    post_state: Option<Value>,
    post_state_hash: Option<B256>,
    lastblockhash: B256,
    network: String,
}

/// One block as the test gives it: its encoding and, for an invalid block, why it is invalid.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockJson {
    rlp: Bytes,
    expect_exception: Option<String>,
}

/// A block on the chain built so far: its header and the state after it.
#[derive(Debug)]
struct Imported {
    header: Header,
    state: InMemoryState,
}

/// Runs every test in the file at `path` on `engine`.
pub fn run_file(engine: Engine, path: &Path) -> Result<Vec<CaseResult>, TestFileError> {
    let mut results = Vec::new();
    for (name, json) in read_tests(path)? {
        results.push(match decode(json) {
            Ok(test) => run_test(engine, &name, &test),
            Err(error) => malformed(&name, error),
        });
    }
    Ok(results)
}

fn decode(json: Value) -> Result<BlockchainTest, FixtureErrorKind> {
    let mut test = test_object(json)?;
    Ok(BlockchainTest {
        blocks: field(&mut test, "blocks")?,
        genesis_rlp: field(&mut test, "genesisRLP")?,
        pre: field(&mut test, "pre")?,
        post_state: optional_field(&mut test, "postState")?,
        post_state_hash: optional_field(&mut test, "postStateHash")?,
        lastblockhash: field(&mut test, "lastblockhash")?,
        network: field(&mut test, "network")?,
    })
}

fn run_test(engine: Engine, name: &str, test: &BlockchainTest) -> CaseResult {
    let mut rejections = Vec::new();
    let verdict = match fork::chain_for(&test.network) {
        Some(chain) => match run_chain(engine, &chain, test, &mut rejections) {
            Ok(()) => Verdict::Passed,
            Err(why) => Verdict::Failed(why),
        },
        None => Verdict::Skipped(format!("fork {} is not supported", test.network)),
    };
    CaseResult {
        test: name.to_owned(),
        fork: test.network.clone(),
        case: String::new(),
        verdict,
        notes: rejections,
    }
}

/// Imports the test's blocks; `Err` says what went wrong.
fn run_chain(
    engine: Engine,
    chain: &Chain,
    test: &BlockchainTest,
    rejections: &mut Vec<String>,
) -> Result<(), String> {
    let genesis = decode_block(&test.genesis_rlp).map_err(|e| format!("genesisRLP: {e}"))?;
    let state = parse_pre_state(test.pre.clone()).map_err(|e| format!("pre: {e}"))?;
    let root = state.state_root();
    if root != genesis.header.state_root {
        return Err(format!(
            "genesis: pre-state root {root}, header says {}",
            genesis.header.state_root
        ));
    }
    let mut head = genesis.header.hash_slow();
    let mut blocks = B256Map::default();
    blocks.insert(
        head,
        Imported {
            header: genesis.header,
            state,
        },
    );
    for (index, block) in test.blocks.iter().enumerate() {
        match (
            import(engine, chain, &blocks, &block.rlp),
            &block.expect_exception,
        ) {
            (Ok((hash, imported)), None) => {
                blocks.insert(hash, imported);
                head = hash;
            }
            (Ok(_), Some(expected)) => {
                return Err(format!("block {index} was accepted, expected {expected}"));
            }
            (Err(why), None) => return Err(format!("block {index} was rejected: {why}")),
            (Err(why), Some(expected)) => {
                rejections.push(format!("block {index}: {why} (expected {expected})"));
            }
        }
    }
    if head != test.lastblockhash {
        return Err(format!(
            "head is {head}, expected lastblockhash {}",
            test.lastblockhash
        ));
    }
    let state = &blocks
        .get(&head)
        .ok_or_else(|| format!("head {head} has no state"))?
        .state;
    check_post_state(test, state)
}

/// Decodes, validates and executes one block on top of its parent among `blocks`.
fn import(
    engine: Engine,
    chain: &Chain,
    blocks: &B256Map<Imported>,
    rlp: &[u8],
) -> Result<(B256, Imported), String> {
    let block = decode_block(rlp)?;
    let hash = block.header.hash_slow();
    let parent = blocks
        .get(&block.header.parent_hash)
        .ok_or_else(|| format!("unknown parent {}", block.header.parent_hash))?;
    validate_header(chain, &block.header, &parent.header).map_err(|e| e.to_string())?;
    validate_body(chain, &block).map_err(|e| e.to_string())?;
    let block = recover_senders(block).map_err(|e| e.to_string())?;
    let mut state = parent.state.clone();
    state.insert_block_hash(parent.header.number, block.header.parent_hash);
    let output = engine
        .execute(chain, &block, &state)
        .map_err(|e| error_chain(&e))?;
    state.apply(&output.state);
    validate_execution(chain, &block.header, &output, state.state_root())
        .map_err(|e| e.to_string())?;
    Ok((
        hash,
        Imported {
            header: block.header,
            state,
        },
    ))
}

/// Decodes a block, requiring the encoding to be exactly one block.
fn decode_block(rlp: &[u8]) -> Result<Block<TxEnvelope>, String> {
    let mut rest = rlp;
    let block = Block::<TxEnvelope>::decode(&mut rest).map_err(|e| format!("RLP: {e}"))?;
    if !rest.is_empty() {
        return Err(format!("RLP: {} bytes after the block", rest.len()));
    }
    Ok(block)
}

/// Compares the head's state with the test's `postState` (or `postStateHash`).
fn check_post_state(test: &BlockchainTest, state: &InMemoryState) -> Result<(), String> {
    let root = state.state_root();
    match (&test.post_state, test.post_state_hash) {
        (Some(post), _) => {
            let expected = parse_pre_state(post.clone()).map_err(|e| format!("postState: {e}"))?;
            if root == expected.state_root() {
                Ok(())
            } else {
                Err(format!(
                    "post-state differs: {}",
                    first_difference(&expected, state)
                ))
            }
        }
        (None, Some(hash)) if hash == root => Ok(()),
        (None, Some(hash)) => Err(format!("post-state root {root}, expected {hash}")),
        (None, None) => Err("the test has neither postState nor postStateHash".to_owned()),
    }
}

/// The first account (by address) whose balance, nonce, code or storage differs.
fn first_difference(expected: &InMemoryState, actual: &InMemoryState) -> String {
    let mut addresses: Vec<_> = expected
        .accounts()
        .keys()
        .chain(actual.accounts().keys())
        .collect();
    addresses.sort();
    addresses.dedup();
    for address in addresses {
        match (
            expected.accounts().get(address),
            actual.accounts().get(address),
        ) {
            (Some(_), None) => return format!("account {address} is missing"),
            (None, Some(_)) => return format!("account {address} should not exist"),
            (Some(want), Some(have)) => {
                let (w, h) = (&want.info, &have.info);
                if (w.balance, w.nonce, w.code_hash) != (h.balance, h.nonce, h.code_hash) {
                    return format!(
                        "account {address}: balance {} nonce {} code {}, expected balance {} nonce {} code {}",
                        h.balance, h.nonce, h.code_hash, w.balance, w.nonce, w.code_hash
                    );
                }
                let nonzero = |s: &alloy_primitives::map::HashMap<_, _>| {
                    let mut slots: Vec<_> = s
                        .iter()
                        .filter(|(_, v): &(_, &alloy_primitives::U256)| !v.is_zero())
                        .map(|(k, v)| (*k, *v))
                        .collect();
                    slots.sort();
                    slots
                };
                if nonzero(&want.storage) != nonzero(&have.storage) {
                    return format!("account {address}: storage differs");
                }
            }
            (None, None) => {}
        }
    }
    "state roots differ, accounts do not (hash collision?)".to_owned()
}

/// An error with its causes, on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
