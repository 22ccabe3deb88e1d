//! The reference executor on hand-built blocks: rewards, withdrawals, the DAO change,
//! transaction environments per type, and the errors of invalid transactions and state.

use super::execute;
use crate::{BlockInput, Chain, ExecuteError, InMemoryState, PreAccount, TxStatus, chain::tx_env};
use alloy_consensus::{
    Header, Signed, TxEip1559, TxEip2930, TxEip4844, TxEip7702, TxEnvelope, TxLegacy,
    transaction::Recovered,
};
use alloy_eips::{eip2930::AccessList, eip4895::Withdrawal, eip7702::Authorization};
use alloy_evm::eth::dao_fork::{DAO_HARDFORK_ACCOUNTS, DAO_HARDFORK_BENEFICIARY};
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256, address};
use revm::{primitives::KECCAK_EMPTY, state::AccountInfo};

const ETH: u128 = 1_000_000_000_000_000_000;
const MINER: Address = address!("0x00000000000000000000000000000000000c0ffe");
const ALICE: Address = address!("0x000000000000000000000000000000000000a11c");
const BOB: Address = address!("0x0000000000000000000000000000000000000b0b");
const SHANGHAI_TIME: u64 = 1_681_338_455;

fn header(number: u64, timestamp: u64) -> Header {
    Header {
        number,
        timestamp,
        beneficiary: MINER,
        gas_limit: 30_000_000,
        base_fee_per_gas: (number >= 12_965_000).then_some(7),
        ..Header::default()
    }
}

fn block(header: Header, transactions: Vec<Recovered<TxEnvelope>>) -> BlockInput {
    BlockInput {
        header,
        transactions,
        ommers: Vec::new(),
        withdrawals: None,
    }
}

fn state_with(accounts: &[(Address, u128)]) -> InMemoryState {
    let mut state = InMemoryState::default();
    for (address, balance) in accounts {
        let info = AccountInfo::default().with_balance(U256::from(*balance));
        state.insert_account(
            *address,
            PreAccount {
                info,
                storage: Default::default(),
            },
        );
    }
    state
}

fn signed<T: alloy_consensus::SignableTransaction<Signature>>(tx: T) -> Signed<T> {
    tx.into_signed(Signature::test_signature())
}

fn transfer(nonce: u64, value: u128) -> Recovered<TxEnvelope> {
    let tx = TxLegacy {
        chain_id: Some(1),
        nonce,
        gas_price: 10,
        gas_limit: 21_000,
        to: TxKind::Call(BOB),
        value: U256::from(value),
        input: Bytes::new(),
    };
    Recovered::new_unchecked(signed(tx).into(), ALICE)
}

fn balance(output: &crate::BlockOutput, address: Address) -> U256 {
    output
        .state
        .account(&address)
        .and_then(|account| account.info.as_ref())
        .map_or(U256::ZERO, |info| info.balance)
}

#[test]
fn block_rewards_follow_the_fork() {
    let chain = Chain::mainnet();
    for (number, reward) in [
        (100, 5 * ETH),
        (4_370_000, 3 * ETH),
        (7_280_000, 2 * ETH),
        (15_537_394, 0),
    ] {
        let output = execute(&chain, &block(header(number, 0), vec![]), state_with(&[])).unwrap();
        assert_eq!(
            balance(&output, MINER),
            U256::from(reward),
            "block {number}"
        );
    }
}

#[test]
fn ommer_rewards_depend_on_distance() {
    let chain = Chain::mainnet();
    let uncle_miner = address!("0x0000000000000000000000000000000000000123");
    let mut input = block(header(1_000, 0), vec![]);
    input.ommers = vec![Header {
        number: 998,
        beneficiary: uncle_miner,
        ..Header::default()
    }];
    let output = execute(&chain, &input, state_with(&[])).unwrap();
    // The ommer two blocks back earns 6/8 of the block reward; the miner 1/32 more per ommer.
    assert_eq!(balance(&output, uncle_miner), U256::from(5 * ETH * 6 / 8));
    assert_eq!(balance(&output, MINER), U256::from(5 * ETH + 5 * ETH / 32));
}

#[test]
fn withdrawals_credit_gwei_after_shanghai() {
    let chain = Chain::mainnet();
    let mut input = block(header(17_034_870, SHANGHAI_TIME), vec![]);
    input.withdrawals = Some(vec![
        Withdrawal {
            index: 0,
            validator_index: 1,
            address: BOB,
            amount: 3,
        },
        Withdrawal {
            index: 1,
            validator_index: 2,
            address: BOB,
            amount: 4,
        },
    ]);
    let output = execute(&chain, &input, state_with(&[(BOB, 1)])).unwrap();
    assert_eq!(balance(&output, BOB), U256::from(1 + 7_000_000_000u128));
    assert_eq!(balance(&output, MINER), U256::ZERO);
}

#[test]
fn dao_block_moves_the_dao_balances_to_the_refund_contract() {
    let chain = Chain::mainnet();
    let drained = [
        (DAO_HARDFORK_ACCOUNTS[0], 11u128),
        (DAO_HARDFORK_ACCOUNTS[5], 31),
    ];
    let output = execute(
        &chain,
        &block(header(1_920_000, 0), vec![]),
        state_with(&drained),
    )
    .unwrap();
    assert_eq!(balance(&output, DAO_HARDFORK_BENEFICIARY), U256::from(42));
    assert_eq!(balance(&output, DAO_HARDFORK_ACCOUNTS[0]), U256::ZERO);
    // The block before changes nothing.
    let output = execute(
        &chain,
        &block(header(1_919_999, 0), vec![]),
        state_with(&drained),
    )
    .unwrap();
    assert_eq!(balance(&output, DAO_HARDFORK_BENEFICIARY), U256::ZERO);
}

#[test]
fn transfers_produce_receipts_and_pay_the_miner() {
    let chain = Chain::mainnet();
    let input = block(
        header(4_370_000, 0),
        vec![transfer(0, 100), transfer(1, 200)],
    );
    let output = execute(&chain, &input, state_with(&[(ALICE, ETH)])).unwrap();
    assert_eq!(output.gas_used, 42_000);
    assert_eq!(output.receipts.len(), 2);
    assert!(
        output
            .transactions
            .iter()
            .all(|tx| tx.status == TxStatus::Success)
    );
    assert_eq!(balance(&output, BOB), U256::from(300));
    assert_eq!(balance(&output, ALICE), U256::from(ETH - 300 - 42_000 * 10));
    assert_eq!(balance(&output, MINER), U256::from(3 * ETH + 42_000 * 10));
}

#[test]
fn sender_that_cannot_pay_is_an_error_naming_the_transaction() {
    let chain = Chain::mainnet();
    let input = block(
        header(4_370_000, 0),
        vec![transfer(0, 100), transfer(1, ETH)],
    );
    let err = execute(&chain, &input, state_with(&[(ALICE, ETH / 2)])).unwrap_err();
    let ExecuteError::Transaction { index, hash, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(*index, 1);
    assert_eq!(*hash, *input.transactions[1].tx_hash());
    assert!(err.to_string().contains("transaction 1"), "{err}");
    assert!(err.to_string().to_lowercase().contains("fund"), "{err}");
}

#[test]
fn wrong_nonce_is_an_error() {
    let chain = Chain::mainnet();
    let input = block(header(4_370_000, 0), vec![transfer(5, 1)]);
    let err = execute(&chain, &input, state_with(&[(ALICE, ETH)])).unwrap_err();
    assert!(
        matches!(err, ExecuteError::Transaction { index: 0, .. }),
        "{err}"
    );
    assert!(err.to_string().to_lowercase().contains("nonce"), "{err}");
}

#[test]
fn missing_code_in_the_state_is_an_error_not_an_empty_account() {
    let chain = Chain::mainnet();
    let mut state = state_with(&[(ALICE, ETH)]);
    let missing = B256::repeat_byte(0xcd);
    state.insert_account(
        BOB,
        PreAccount {
            info: AccountInfo::default().with_code_hash(missing),
            storage: Default::default(),
        },
    );
    let input = block(header(4_370_000, 0), vec![transfer(0, 1)]);
    let err = execute(&chain, &input, state).unwrap_err();
    assert!(
        matches!(err, ExecuteError::Transaction { index: 0, .. }),
        "{err}"
    );
    assert!(err.to_string().contains(&missing.to_string()), "{err}");
}

#[test]
fn tx_env_for_every_transaction_type() {
    let to = TxKind::Call(BOB);
    let access_list = AccessList::default();

    let pre_eip155 = TxLegacy {
        chain_id: None,
        gas_price: 9,
        gas_limit: 50_000,
        to,
        ..Default::default()
    };
    let env = tx_env(&Recovered::new_unchecked(signed(pre_eip155).into(), ALICE));
    assert_eq!(
        (env.tx_type, env.chain_id, env.gas_price, env.caller),
        (0, None, 9, ALICE)
    );

    let eip2930 = TxEip2930 {
        chain_id: 1,
        gas_price: 8,
        gas_limit: 50_000,
        to,
        access_list: access_list.clone(),
        ..Default::default()
    };
    let env = tx_env(&Recovered::new_unchecked(signed(eip2930).into(), ALICE));
    assert_eq!(
        (
            env.tx_type,
            env.chain_id,
            env.gas_price,
            env.gas_priority_fee
        ),
        (1, Some(1), 8, None)
    );

    let eip1559 = TxEip1559 {
        chain_id: 1,
        max_fee_per_gas: 100,
        max_priority_fee_per_gas: 3,
        gas_limit: 50_000,
        to,
        ..Default::default()
    };
    let env = tx_env(&Recovered::new_unchecked(signed(eip1559).into(), ALICE));
    assert_eq!(
        (env.tx_type, env.gas_price, env.gas_priority_fee),
        (2, 100, Some(3))
    );

    let blob_hash = B256::repeat_byte(1);
    let eip4844 = TxEip4844 {
        chain_id: 1,
        max_fee_per_gas: 100,
        max_priority_fee_per_gas: 3,
        max_fee_per_blob_gas: 5,
        blob_versioned_hashes: vec![blob_hash],
        gas_limit: 50_000,
        to: BOB,
        ..Default::default()
    };
    let env = tx_env(&Recovered::new_unchecked(signed(eip4844).into(), ALICE));
    assert_eq!(
        (
            env.tx_type,
            env.max_fee_per_blob_gas,
            env.blob_hashes.clone()
        ),
        (3, 5, vec![blob_hash])
    );

    let authorization = Authorization {
        chain_id: U256::from(1),
        address: BOB,
        nonce: 0,
    };
    let eip7702 = TxEip7702 {
        chain_id: 1,
        max_fee_per_gas: 100,
        max_priority_fee_per_gas: 3,
        gas_limit: 50_000,
        to: BOB,
        authorization_list: vec![authorization.into_signed(Signature::test_signature())],
        ..Default::default()
    };
    let env = tx_env(&Recovered::new_unchecked(signed(eip7702).into(), ALICE));
    assert_eq!((env.tx_type, env.authorization_list.len()), (4, 1));
}

#[test]
fn contract_creation_reports_its_address() {
    let chain = Chain::mainnet();
    // Init code returning an empty runtime: PUSH1 0 PUSH1 0 RETURN.
    let create = TxLegacy {
        chain_id: Some(1),
        gas_price: 10,
        gas_limit: 100_000,
        to: TxKind::Create,
        input: Bytes::from_static(&[0x60, 0x00, 0x60, 0x00, 0xf3]),
        ..Default::default()
    };
    let input = block(
        header(4_370_000, 0),
        vec![Recovered::new_unchecked(signed(create).into(), ALICE)],
    );
    let output = execute(&chain, &input, state_with(&[(ALICE, ETH)])).unwrap();
    let created = output.transactions[0]
        .created
        .expect("a contract was created");
    assert_eq!(created, ALICE.create(0));
    let info = output
        .state
        .account(&created)
        .and_then(|a| a.info.clone())
        .unwrap();
    assert_eq!(info.code_hash, KECCAK_EMPTY);
    assert_eq!(info.nonce, 1);
}
