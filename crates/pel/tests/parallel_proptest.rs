//! Randomized dense-conflict blocks: few senders, few slots, contracts that read what earlier
//! transactions wrote, transfers between the same accounts and to the beneficiary, creates
//! and CREATE2 collisions, self-destructs, reverts and out-of-gas, on London, Shanghai and
//! Cancun rules. The parallel engine (forced to run Block-STM) must return exactly what the
//! sequential engine returns, at a random thread count.
//!
//! CI runs a fixed number of cases from a fixed seed; `PEL_PROPTEST_CASES=N` runs more.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use alloy_consensus::{TxEip1559, TxLegacy};
use alloy_primitives::{Address, Bytes, TxKind, U256, keccak256};
use pel::{
    BlockInput, Chain, InMemoryState, PreAccount,
    parallel::{Fallback, Mode, ParallelConfig, execute},
    sequential,
};
use pel_inputs::{Wallet, synthetic};
use proptest::{
    prelude::*,
    test_runner::{Config, RngAlgorithm, TestRng, TestRunner},
};
use revm::{bytecode::Bytecode, primitives::hardfork::SpecId, state::AccountInfo};

const SENDERS: u64 = 4;
const COUNTER: Address = Address::with_last_byte(0xc1);
const STORE: Address = Address::with_last_byte(0xc2);
const READER: Address = Address::with_last_byte(0xc3);
const DESTRUCT: Address = Address::with_last_byte(0xc4);
const REVERT: Address = Address::with_last_byte(0xc5);
const BURN: Address = Address::with_last_byte(0xc6);
const CREATE2: Address = Address::with_last_byte(0xc7);
const CREATE: Address = Address::with_last_byte(0xc8);
const WATCHED: Address = Address::with_last_byte(0xee);

/// Code of the contracts the creators deploy: with calldata, `selfdestruct(caller)`; without,
/// `sstore(1, sload(0) + sload(1))`, which sees stale storage if a destroyed and recreated
/// contract's storage were not reset.
const CREATED: [u8; 18] = [
    0x36, 0x60, 0x0f, 0x57, 0x60, 0x00, 0x54, 0x60, 0x01, 0x54, 0x01, 0x60, 0x01, 0x55, 0x00, 0x5b,
    0x33, 0xff,
];

/// Init code: `sstore(0, 1)`, then deploy [`CREATED`]; 32 bytes, so one `PUSH32` holds it.
fn init_code() -> [u8; 32] {
    let mut init = vec![0x60, 0x01, 0x60, 0x00, 0x55, 0x71];
    init.extend_from_slice(&CREATED);
    init.extend_from_slice(&[0x60, 0x00, 0x52, 0x60, 0x12, 0x60, 0x0e, 0xf3]);
    init.try_into().unwrap()
}

/// Where `CREATE2` deploys with this salt.
fn created(salt: u8) -> Address {
    CREATE2.create2(
        U256::from(salt & 1).to_be_bytes::<32>(),
        keccak256(init_code()),
    )
}

fn push20(code: &mut Vec<u8>, address: Address) {
    code.push(0x73);
    code.extend_from_slice(address.as_slice());
}

fn contracts() -> Vec<(Address, Vec<u8>)> {
    // slot0 += 1
    let counter = vec![0x60, 0x00, 0x54, 0x60, 0x01, 0x01, 0x60, 0x00, 0x55, 0x00];
    // sstore(calldata[0] & 3, calldata[32])
    let store = vec![
        0x60, 0x20, 0x35, 0x60, 0x00, 0x35, 0x60, 0x03, 0x16, 0x55, 0x00,
    ];
    // call COUNTER; sstore(0, balance(coinbase)); sstore(1, balance(WATCHED));
    // sstore(2, selfbalance); sstore(3, sload(3) + 1)
    let mut reader = vec![0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00];
    push20(&mut reader, COUNTER);
    reader.extend_from_slice(&[0x5a, 0xf1, 0x50, 0x41, 0x31, 0x60, 0x00, 0x55]);
    push20(&mut reader, WATCHED);
    reader.extend_from_slice(&[0x31, 0x60, 0x01, 0x55, 0x47, 0x60, 0x02, 0x55]);
    reader.extend_from_slice(&[0x60, 0x03, 0x54, 0x60, 0x01, 0x01, 0x60, 0x03, 0x55, 0x00]);
    // selfdestruct(caller)
    let destruct = vec![0x33, 0xff];
    // sstore(0, 1); revert(0, 0)
    let revert = vec![0x60, 0x01, 0x60, 0x00, 0x55, 0x60, 0x00, 0x60, 0x00, 0xfd];
    // loop forever
    let burn = vec![0x5b, 0x60, 0x00, 0x56];
    // sstore(0, create2(0, init, salt = calldata[0] & 1))
    let mut create2 = vec![0x7f];
    create2.extend_from_slice(&init_code());
    create2.extend_from_slice(&[
        0x60, 0x00, 0x52, 0x60, 0x00, 0x35, 0x60, 0x01, 0x16, 0x60, 0x20, 0x60, 0x00, 0x60, 0x00,
        0xf5, 0x60, 0x00, 0x55, 0x00,
    ]);
    // sstore(1, create(0, init))
    let mut create = vec![0x7f];
    create.extend_from_slice(&init_code());
    create.extend_from_slice(&[
        0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0x60, 0x00, 0xf0, 0x60, 0x01, 0x55, 0x00,
    ]);
    vec![
        (COUNTER, counter),
        (STORE, store),
        (READER, reader),
        (DESTRUCT, destruct),
        (REVERT, revert),
        (BURN, burn),
        (CREATE2, create2),
        (CREATE, create),
    ]
}

/// One generated transaction: who sends it, what it does, and its parameters.
#[derive(Debug, Clone)]
struct TxSpec {
    sender: u64,
    kind: u8,
    arg: u8,
    value: u64,
    low_gas: bool,
    legacy: bool,
    /// 2 KB of zeros after the calldata: the engine starts such transactions before their
    /// turn (they look like heavy ones), out of order among dense conflicts.
    heavy: bool,
}

fn tx_spec() -> impl Strategy<Value = TxSpec> {
    (
        0..SENDERS,
        kind(),
        0u8..4,
        0u64..3,
        prop::bool::weighted(0.1),
        any::<bool>(),
        prop::bool::weighted(0.25),
    )
        .prop_map(
            |(sender, kind, arg, value, low_gas, legacy, heavy)| TxSpec {
                sender,
                kind,
                arg,
                value,
                low_gas,
                legacy,
                heavy,
            },
        )
}

/// Any kind, with the create-destroy-recreate-read kinds weighted up so that sequences of
/// them are common.
fn kind() -> impl Strategy<Value = u8> {
    prop_oneof![6 => 0u8..15, 2 => Just(13u8), 2 => Just(8u8), 2 => Just(11u8), 1 => Just(12u8)]
}

/// A block and its pre-state from the specs, with the beneficiary chosen by `coinbase`.
fn build(specs: &[TxSpec], coinbase: u8) -> (BlockInput, InMemoryState) {
    let wallets: Vec<Wallet> = (0..SENDERS).map(|i| Wallet::from_seed(900 + i)).collect();
    let mut state = InMemoryState::default();
    for wallet in &wallets {
        synthetic::fund(&mut state, wallet.address(), U256::from(10u128.pow(19)));
    }
    synthetic::fund(&mut state, WATCHED, U256::from(5));
    for (address, code) in contracts() {
        let code = Bytecode::new_raw(Bytes::from(code));
        let info = AccountInfo::default()
            .with_balance(U256::from(1_000))
            .with_nonce(1)
            .with_code(code);
        state.insert_account(
            address,
            PreAccount {
                info,
                storage: [(U256::ZERO, U256::from(7))].into_iter().collect(),
            },
        );
    }
    let beneficiary = match coinbase % 3 {
        0 => Address::repeat_byte(0xcb),
        1 => wallets[0].address(),
        _ => READER,
    };
    let mut nonces = [0u64; SENDERS as usize];
    let mut transactions = Vec::new();
    for spec in specs {
        let sender = spec.sender as usize;
        let value = U256::from(spec.value * 1_000 + u64::from(spec.kind == 13));
        let word = |n: u8| U256::from(n).to_be_bytes::<32>();
        let (to, mut input, gas) = match spec.kind {
            0 => (
                TxKind::Call(wallets[(sender + 1) % SENDERS as usize].address()),
                vec![],
                21_000,
            ),
            1 => (TxKind::Call(beneficiary), vec![], 60_000),
            2 => (TxKind::Call(COUNTER), vec![], 100_000),
            3 => (
                TxKind::Call(STORE),
                [word(spec.arg), word(spec.arg / 3)].concat(),
                100_000,
            ),
            4 => (TxKind::Call(READER), vec![], 200_000),
            5 => (TxKind::Call(DESTRUCT), vec![], 100_000),
            6 => (TxKind::Call(REVERT), vec![], 100_000),
            7 => (TxKind::Call(BURN), vec![], 60_000),
            8 => (TxKind::Call(CREATE2), word(spec.arg).to_vec(), 200_000),
            9 => (TxKind::Call(CREATE), vec![], 200_000),
            10 => (TxKind::Create, init_code().to_vec(), 200_000),
            11 => (TxKind::Call(created(spec.arg)), vec![], 100_000),
            12 => (TxKind::Call(created(spec.arg)), vec![1], 100_000),
            13 => (TxKind::Call(WATCHED), vec![], 21_000),
            _ => (
                TxKind::Call(Address::with_last_byte(spec.arg % 4)),
                vec![],
                30_000,
            ),
        };
        // Trailing zeros change no contract's reading of its calldata, but make an empty one
        // non-empty: a plain transfer becomes a call, and a call to a created contract (kind
        // 11) destroys it as kind 12 does.
        let padding = if spec.heavy { 2_048 } else { 0 };
        input.resize(input.len() + padding, 0);
        let gas_limit = if spec.low_gas { 23_000 } else { gas } + 10 * padding as u64;
        let nonce = nonces[sender];
        nonces[sender] += 1;
        let tx = if spec.legacy {
            wallets[sender].sign(TxLegacy {
                chain_id: Some(1),
                nonce,
                gas_price: 20_000_000_000,
                gas_limit,
                to,
                value,
                input: input.into(),
            })
        } else {
            wallets[sender].sign(TxEip1559 {
                chain_id: 1,
                nonce,
                gas_limit,
                max_fee_per_gas: 20_000_000_000,
                max_priority_fee_per_gas: u128::from(spec.arg) * 1_000_000,
                to,
                value,
                input: input.into(),
                ..TxEip1559::default()
            })
        };
        transactions.push(tx);
    }
    let block = BlockInput {
        header: synthetic::cancun_header(beneficiary),
        transactions,
        ommers: Vec::new(),
        withdrawals: Some(Vec::new()),
    };
    (block, state)
}

fn check(specs: &[TxSpec], coinbase: u8, fork: usize, threads: usize) -> Result<(), TestCaseError> {
    let spec = [SpecId::LONDON, SpecId::SHANGHAI, SpecId::CANCUN][fork % 3];
    let chain = Chain::single_fork(spec, 1);
    let (block, state) = build(specs, coinbase);
    let expected = sequential::execute(&chain, &block, &state);
    let config = ParallelConfig {
        threads,
        fallback: Fallback::Never,
    };
    let actual = execute(&chain, &block, &state, config);
    match (expected, actual) {
        (Ok(expected), Ok((actual, stats))) => {
            // Every account the block's own changes reach goes through `State`: a second run
            // would hide a gap in that list.
            prop_assert_ne!(stats.mode, Mode::Rerun);
            prop_assert_eq!(&expected.receipts, &actual.receipts);
            prop_assert_eq!(&expected.transactions, &actual.transactions);
            prop_assert_eq!(&expected.state, &actual.state);
            prop_assert_eq!(expected, actual);
        }
        (Err(expected), Err(actual)) => prop_assert_eq!(expected.to_string(), actual.to_string()),
        (expected, actual) => {
            prop_assert!(
                false,
                "sequential {:?}, parallel {:?}",
                expected.err(),
                actual.err()
            )
        }
    }
    Ok(())
}

#[test]
fn parallel_equals_sequential_on_dense_conflict_blocks() {
    let cases = std::env::var("PEL_PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64);
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let strategy = (
        prop::collection::vec(tx_spec(), 0..40),
        any::<u8>(),
        0usize..3,
        1usize..=8,
    );
    runner
        .run(&strategy, |(specs, coinbase, fork, threads)| {
            check(&specs, coinbase, fork, threads)
        })
        .unwrap();
}

/// The case random generation finds rarely: a contract created, used, destroyed and created
/// again at the same address (CREATE2, before EIP-6780), then read; the reader must see the
/// storage of the new contract, not the old one.
#[test]
fn recreated_contract_starts_with_empty_storage() {
    let spec = |sender, kind| TxSpec {
        sender,
        kind,
        arg: 0,
        value: 0,
        low_gas: false,
        legacy: false,
        heavy: false,
    };
    let specs = [
        spec(0, 8),
        spec(1, 11),
        spec(2, 12),
        spec(3, 8),
        spec(0, 11),
        spec(1, 11),
    ];
    for threads in [1, 2, 4] {
        check(&specs, 0, 1, threads).unwrap();
    }
    // The scenario is real: the last read sees the recreated contract's storage.
    let (block, state) = build(&specs, 0);
    let chain = Chain::single_fork(SpecId::SHANGHAI, 1);
    let output = sequential::execute(&chain, &block, &state).unwrap();
    let account = &output.state.state[&created(0)];
    assert!(account.info.is_some());
    assert_eq!(account.storage[&U256::from(1)].present_value, U256::from(2));
}
