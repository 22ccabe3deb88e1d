//! Pre-state accounts and JSON helpers shared by the loaders: the mainnet fixtures and the
//! ethereum/tests files write accounts the same way (`balance`, `nonce`, `code`, `storage`).

use crate::error::{FixtureError, FixtureErrorKind};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256, map::HashMap};
use pel::{InMemoryState, PreAccount};
use revm::{bytecode::Bytecode, primitives::KECCAK_EMPTY, state::AccountInfo};
use serde::Deserialize;
use serde_json::Value;
use std::path::Path;

/// Reads and parses a JSON file; errors name the file and, once known, the block.
pub(crate) fn read_json(path: &Path, block: Option<u64>) -> Result<Value, FixtureError> {
    let error = |kind| FixtureError {
        path: path.to_path_buf(),
        block,
        kind,
    };
    let text = std::fs::read(path).map_err(|e| error(e.into()))?;
    serde_json::from_slice(&text).map_err(|e| error(FixtureErrorKind::Json(e)))
}

/// Decodes `value` as `T`; an error names `field`.
pub(crate) fn from_value<T: for<'de> Deserialize<'de>>(
    value: Value,
    field: &str,
) -> Result<T, FixtureErrorKind> {
    serde_json::from_value(value).map_err(|source| FixtureErrorKind::Field {
        field: field.to_owned(),
        source,
    })
}

/// One account of a pre-state: `pre_state.json` or a test's `pre`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AccountJson {
    balance: U256,
    nonce: Quantity,
    #[serde(default)]
    code: Option<Bytes>,
    #[serde(default)]
    code_hash: Option<B256>,
    #[serde(default)]
    storage: HashMap<U256, U256>,
}

/// A nonce written either as a JSON number or as a hex string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Quantity {
    Number(u64),
    Hex(alloy_primitives::U64),
}

impl Quantity {
    fn value(&self) -> u64 {
        match self {
            Self::Number(n) => *n,
            Self::Hex(n) => n.to(),
        }
    }
}

/// Builds a state from an object of accounts keyed by address.
pub(crate) fn parse_pre_state(json: Value) -> Result<InMemoryState, FixtureErrorKind> {
    let Value::Object(accounts) = json else {
        return Err(FixtureErrorKind::Field {
            field: "pre-state".to_owned(),
            source: serde::de::Error::custom("expected an object keyed by address"),
        });
    };
    let mut state = InMemoryState::default();
    for (key, value) in accounts {
        let address: Address = key.parse().map_err(|e| FixtureErrorKind::Field {
            field: format!("address `{key}`"),
            source: serde::de::Error::custom(e),
        })?;
        let account: AccountJson = from_value(value, &format!("account {key}"))?;
        let info = match (account.code, account.code_hash) {
            (Some(code), declared) if !code.is_empty() => {
                let hash = keccak256(&code);
                if declared.is_some_and(|declared| declared != hash) {
                    return Err(FixtureErrorKind::Field {
                        field: format!("account {key}: codeHash"),
                        source: serde::de::Error::custom("does not match the hash of `code`"),
                    });
                }
                AccountInfo::new(
                    account.balance,
                    account.nonce.value(),
                    hash,
                    Bytecode::new_raw(code),
                )
            }
            (_, Some(hash)) => AccountInfo::default()
                .with_balance(account.balance)
                .with_nonce(account.nonce.value())
                .with_code_hash(hash),
            (_, None) => AccountInfo::default()
                .with_balance(account.balance)
                .with_nonce(account.nonce.value())
                .with_code_hash(KECCAK_EMPTY),
        };
        state.insert_account(
            address,
            PreAccount {
                info,
                storage: account.storage,
            },
        );
    }
    Ok(state)
}
