//! Writes a block and its pre-state as a fixture folder in the mainnet fixture format, so
//! generated blocks replay through the same loader as real ones.

use crate::error::{FixtureError, FixtureErrorKind};
use pel::{BlockInput, InMemoryState};
use revm::{DatabaseRef, primitives::KECCAK_EMPTY};
use serde_json::{Map, Value, json};
use std::path::Path;

/// Writes `block.json`, `pre_state.json` and (when there are hashes) `block_hashes.json` into
/// `dir`, creating it. Each file is written beside its final name and then renamed, so a
/// failure never leaves a half-written file under a fixture name.
pub fn write_fixture(
    dir: &Path,
    block: &BlockInput,
    state: &InMemoryState,
) -> Result<(), FixtureError> {
    let error = |path: &Path, kind| FixtureError {
        path: path.to_path_buf(),
        block: Some(block.header.number),
        kind,
    };
    std::fs::create_dir_all(dir).map_err(|e| error(dir, e.into()))?;
    let mut files = vec![
        ("block.json", block_json(block)),
        ("pre_state.json", pre_state_json(state)),
    ];
    if !state.block_hashes().is_empty() {
        let hashes: Map<String, Value> = state
            .block_hashes()
            .iter()
            .map(|(number, hash)| (number.to_string(), json!(hash)))
            .collect();
        files.push(("block_hashes.json", Value::Object(hashes)));
    }
    for (name, value) in files {
        let path = dir.join(name);
        let temporary = dir.join(format!(".{name}.tmp"));
        let text =
            serde_json::to_vec(&value).map_err(|e| error(&path, FixtureErrorKind::Json(e)))?;
        std::fs::write(&temporary, text).map_err(|e| error(&temporary, e.into()))?;
        std::fs::rename(&temporary, &path).map_err(|e| error(&path, e.into()))?;
    }
    Ok(())
}

fn block_json(block: &BlockInput) -> Value {
    let hash = alloy_primitives::Sealable::hash_slow(&block.header);
    let mut object = match json!(alloy_rpc_types_eth::Header::new(block.header.clone())) {
        Value::Object(object) => object,
        _ => Map::new(),
    };
    let transactions: Vec<Value> = block
        .transactions
        .iter()
        .enumerate()
        .map(|(index, tx)| {
            json!(alloy_rpc_types_eth::Transaction {
                inner: tx.clone(),
                block_hash: Some(hash),
                block_number: Some(block.header.number),
                transaction_index: Some(index as u64),
                effective_gas_price: None,
                block_timestamp: None,
            })
        })
        .collect();
    object.insert("transactions".to_owned(), Value::Array(transactions));
    let ommers: Vec<Value> = block
        .ommers
        .iter()
        .map(|h| json!(alloy_rpc_types_eth::Header::new(h.clone())))
        .collect();
    object.insert("uncles".to_owned(), Value::Array(ommers));
    if let Some(withdrawals) = &block.withdrawals {
        object.insert("withdrawals".to_owned(), json!(withdrawals));
    }
    Value::Object(object)
}

fn pre_state_json(state: &InMemoryState) -> Value {
    let mut accounts: Vec<_> = state.accounts().iter().collect();
    accounts.sort_by_key(|(address, _)| **address);
    let object: Map<String, Value> = accounts
        .into_iter()
        .map(|(address, account)| {
            let mut entry = Map::new();
            entry.insert("balance".to_owned(), json!(account.info.balance));
            entry.insert("nonce".to_owned(), json!(account.info.nonce));
            if account.info.code_hash != KECCAK_EMPTY {
                match state.code_by_hash_ref(account.info.code_hash) {
                    Ok(code) => entry.insert("code".to_owned(), json!(code.original_bytes())),
                    Err(_) => entry.insert("codeHash".to_owned(), json!(account.info.code_hash)),
                };
            }
            let mut storage: Vec<_> = account.storage.iter().collect();
            storage.sort();
            let storage: Map<String, Value> = storage
                .into_iter()
                .map(|(slot, value)| (format!("{slot:#x}"), json!(value)))
                .collect();
            entry.insert("storage".to_owned(), Value::Object(storage));
            (format!("{address:#x}"), Value::Object(entry))
        })
        .collect();
    Value::Object(object)
}
