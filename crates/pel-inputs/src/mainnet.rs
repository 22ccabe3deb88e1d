//! Loader for the mainnet block fixtures: `block.json` as `eth_getBlockByNumber(n, true)`
//! returns it, `pre_state.json` with every account the block touches, and `block_hashes.json`
//! for `BLOCKHASH`.

use crate::{
    error::{FixtureError, FixtureErrorKind, SenderProblem},
    json::{from_value, parse_pre_state, read_json},
};
use alloy_consensus::{Header, TxEnvelope, transaction::SignerRecoverable};
use alloy_eips::eip4895::Withdrawal;
use alloy_hardforks::EthereumHardforks;
use alloy_primitives::B256;
use pel::{BlockInput, InMemoryState};
use serde_json::Value;
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

/// One mainnet block with its pre-state, ready to execute.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The fixture folder.
    pub dir: PathBuf,
    /// The block.
    pub block: BlockInput,
    /// The state before the block, restricted to what the block touches.
    pub state: InMemoryState,
    /// Ommers the block names by hash only; their headers, and so their rewards, are unknown.
    pub ommers_without_header: usize,
}

/// The fixture folders under `path`: `path` itself when it holds a `block.json`, else its
/// subfolders that do, in block-number order.
pub fn find_fixtures(path: &Path) -> Result<Vec<PathBuf>, FixtureError> {
    if path.join("block.json").is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let error = |kind| FixtureError {
        path: path.to_path_buf(),
        block: None,
        kind,
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(path).map_err(|e| error(e.into()))? {
        let dir = entry.map_err(|e| error(e.into()))?.path();
        if dir.join("block.json").is_file() {
            found.push(dir);
        }
    }
    if found.is_empty() {
        return Err(error(FixtureErrorKind::NotAFixture));
    }
    found.sort_by_key(|dir| {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        (name.parse::<u64>().unwrap_or(u64::MAX), name)
    });
    Ok(found)
}

/// Loads the fixture in `dir`, recovering every sender from its signature and checking it
/// against the transaction's `from`.
pub fn load_fixture(dir: &Path) -> Result<Fixture, FixtureError> {
    let block_path = dir.join("block.json");
    let block_json = read_json(&block_path, None)?;
    let number_hint = block_json
        .get("number")
        .and_then(Value::as_str)
        .and_then(|n| u64::from_str_radix(n.trim_start_matches("0x"), 16).ok());
    let (block, ommers_without_header) = parse_block(&block_json).map_err(|kind| FixtureError {
        path: block_path.clone(),
        block: number_hint,
        kind,
    })?;
    let number = Some(block.header.number);
    let with_block = |path: &Path| {
        let path = path.to_path_buf();
        move |kind| FixtureError {
            path,
            block: number,
            kind,
        }
    };
    check_senders(&block).map_err(with_block(&block_path))?;

    let state_path = dir.join("pre_state.json");
    let mut state =
        parse_pre_state(read_json(&state_path, number)?).map_err(with_block(&state_path))?;

    let hashes_path = dir.join("block_hashes.json");
    if hashes_path.is_file() {
        let hashes: BTreeMap<String, B256> =
            from_value(read_json(&hashes_path, number)?, "block hashes")
                .map_err(with_block(&hashes_path))?;
        for (key, hash) in hashes {
            let number = key.parse::<u64>().map_err(|e| {
                with_block(&hashes_path)(FixtureErrorKind::Field {
                    field: format!("block number `{key}`"),
                    source: serde::de::Error::custom(e),
                })
            })?;
            state.insert_block_hash(number, hash);
        }
    }
    Ok(Fixture {
        dir: dir.to_path_buf(),
        block,
        state,
        ommers_without_header,
    })
}

/// Decodes the header, transactions, withdrawals and ommers of an RPC block object.
fn parse_block(json: &Value) -> Result<(BlockInput, usize), FixtureErrorKind> {
    let object = json
        .as_object()
        .ok_or(FixtureErrorKind::MissingField("number"))?;
    let mut header_fields = object.clone();
    let transactions = header_fields
        .remove("transactions")
        .ok_or(FixtureErrorKind::MissingField("transactions"))?;
    let withdrawals = header_fields.remove("withdrawals");
    let uncles = header_fields.remove("uncles");
    let header: alloy_rpc_types_eth::Header<Header> =
        from_value(Value::Object(header_fields), "header")?;

    let transactions = match transactions {
        Value::Array(items) => items,
        _ => return Err(FixtureErrorKind::MissingField("transactions")),
    };
    let transactions = transactions
        .into_iter()
        .enumerate()
        .map(|(index, tx)| parse_transaction(index, tx))
        .collect::<Result<Vec<_>, _>>()?;

    let withdrawals: Option<Vec<Withdrawal>> = match withdrawals {
        Some(value) => Some(from_value(value, "withdrawals")?),
        None => None,
    };
    let (ommers, ommers_without_header) = match uncles {
        Some(Value::Array(items)) => {
            let hashes_only = items.iter().filter(|item| item.is_string()).count();
            let headers = items
                .into_iter()
                .filter(|item| item.is_object())
                .map(|item| from_value::<alloy_rpc_types_eth::Header<Header>>(item, "uncles"))
                .map(|header| header.map(|h| h.inner))
                .collect::<Result<Vec<_>, _>>()?;
            (headers, hashes_only)
        }
        _ => (Vec::new(), 0),
    };
    let block = BlockInput {
        header: header.inner,
        transactions,
        ommers,
        withdrawals,
    };
    Ok((block, ommers_without_header))
}

/// Transaction types this loader decodes: legacy, EIP-2930, EIP-1559, EIP-4844, EIP-7702.
const KNOWN_TX_TYPES: [u64; 5] = [0, 1, 2, 3, 4];

fn parse_transaction(
    index: usize,
    json: Value,
) -> Result<alloy_consensus::transaction::Recovered<TxEnvelope>, FixtureErrorKind> {
    if let Some(tx_type) = json.get("type") {
        let known = tx_type
            .as_str()
            .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
            .is_some_and(|t| KNOWN_TX_TYPES.contains(&t));
        if !known {
            return Err(FixtureErrorKind::UnknownTxType {
                index,
                tx_type: tx_type.to_string(),
            });
        }
    }
    let tx: alloy_rpc_types_eth::Transaction<TxEnvelope> = serde_json::from_value(json)
        .map_err(|source| FixtureErrorKind::Transaction { index, source })?;
    Ok(tx.inner)
}

/// Recovers each sender from its signature and compares it with the declared `from`.
/// Before Homestead, signatures with a high `s` were valid, so recovery does not reject them.
fn check_senders(block: &BlockInput) -> Result<(), FixtureErrorKind> {
    let homestead = pel::Chain::mainnet().is_homestead_active_at_block(block.header.number);
    for (index, tx) in block.transactions.iter().enumerate() {
        let recovered = if homestead {
            tx.inner().recover_signer()
        } else {
            tx.inner().recover_signer_unchecked()
        }
        .map_err(|e| FixtureErrorKind::Sender {
            index,
            problem: SenderProblem::BadSignature(e.to_string()),
        })?;
        if recovered != tx.signer() {
            return Err(FixtureErrorKind::Sender {
                index,
                problem: SenderProblem::Mismatch {
                    declared: tx.signer(),
                    recovered,
                },
            });
        }
    }
    Ok(())
}
