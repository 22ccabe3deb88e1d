//! EIP-7610 on a hand-built block: a creation whose address has storage (and no code or nonce)
//! fails as a collision, by transaction and by `CREATE2`, unless an earlier transaction of the
//! block removed the account; both engines agree at every thread count; a state provider that
//! does not claim storage-only accounts creates as revm does.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use alloy_consensus::{Header, Signed, TxEnvelope, TxLegacy, transaction::Recovered};
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256, keccak256};
use pel::{
    BlockInput, BlockOutput, Chain, Engine, InMemoryState, PreAccount, StateProvider, TxStatus,
    parallel::{Fallback, ParallelConfig},
};
use revm::{
    DatabaseRef,
    bytecode::Bytecode,
    context::result::HaltReason,
    primitives::{StorageKey, StorageValue},
    state::AccountInfo,
};

const ETH: u64 = 1_000_000_000_000_000_000;
/// Creates at nonce 0 onto an empty account with storage, after `TOUCHER` removed it.
const CREATOR: Address = Address::with_last_byte(0xc1);
/// Creates at nonce 0 onto an account with storage and a balance, which nothing removes.
const BLOCKED_CREATOR: Address = Address::with_last_byte(0xc2);
const TOUCHER: Address = Address::with_last_byte(0x70);
const FACTORY: Address = Address::with_last_byte(0xfa);
/// `CREATE2(value 0, empty init code, salt 0)`, then the address it returned into slot 0.
const FACTORY_CODE: [u8; 13] = [
    0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0xf5, 0x60, 0x00, 0x55, 0x00,
];
const CREATE_GAS: u64 = 100_000;
/// Enough for the factory to store after a failed `CREATE2` consumed the 63/64 it passed on.
const FACTORY_GAS: u64 = 1_000_000;

fn tx(from: Address, nonce: u64, to: TxKind, gas_limit: u64) -> Recovered<TxEnvelope> {
    let tx = TxLegacy {
        chain_id: Some(1),
        nonce,
        gas_price: 10,
        gas_limit,
        to,
        value: U256::ZERO,
        input: Bytes::new(),
    };
    let signed = Signed::new_unhashed(tx, Signature::test_signature());
    Recovered::new_unchecked(TxEnvelope::Legacy(signed), from)
}

fn account(balance: u64, nonce: u64, storage: &[(u64, u64)]) -> PreAccount {
    PreAccount {
        info: AccountInfo::default()
            .with_balance(U256::from(balance))
            .with_nonce(nonce),
        storage: storage
            .iter()
            .map(|&(slot, value)| (U256::from(slot), U256::from(value)))
            .collect(),
    }
}

/// Where the factory's `CREATE2` lands.
fn create2_target() -> Address {
    FACTORY.create2(B256::ZERO, keccak256([]))
}

/// The block and its pre-state: three storage-only accounts at the addresses the block
/// creates at, the first of them empty (balance zero) and touched away by transaction 0.
fn collision_block() -> (BlockInput, InMemoryState) {
    let mut state = InMemoryState::default();
    for sender in [CREATOR, BLOCKED_CREATOR, TOUCHER] {
        state.insert_account(sender, account(ETH, 0, &[]));
    }
    state.insert_account(CREATOR.create(0), account(0, 0, &[(1, 1)]));
    state.insert_account(BLOCKED_CREATOR.create(0), account(1, 0, &[(1, 1)]));
    state.insert_account(create2_target(), account(1, 0, &[(2, 2)]));
    let code = Bytecode::new_raw(Bytes::from_static(&FACTORY_CODE));
    let mut factory = account(0, 1, &[(0, 0xff)]);
    factory.info = factory.info.with_code(code);
    state.insert_account(FACTORY, factory);
    let transactions = vec![
        tx(TOUCHER, 0, TxKind::Call(CREATOR.create(0)), CREATE_GAS),
        tx(CREATOR, 0, TxKind::Create, CREATE_GAS),
        tx(BLOCKED_CREATOR, 0, TxKind::Create, CREATE_GAS),
        tx(TOUCHER, 1, TxKind::Call(FACTORY), FACTORY_GAS),
    ];
    let header = Header {
        number: 17_034_870,
        timestamp: 1_681_338_455,
        gas_limit: 30_000_000,
        base_fee_per_gas: Some(7),
        ..Header::default()
    };
    let block = BlockInput {
        header,
        transactions,
        ommers: Vec::new(),
        withdrawals: Some(Vec::new()),
    };
    (block, state)
}

fn run(
    engine: Engine,
    state: impl StateProvider<Error: Send + Sync + 'static> + std::fmt::Debug + Sync,
) -> BlockOutput {
    let (block, _) = collision_block();
    engine.execute(&Chain::mainnet(), &block, state).unwrap()
}

fn info(output: &BlockOutput, address: Address) -> Option<AccountInfo> {
    output.state.state[&address].info.clone()
}

/// A slot's value after the block; `None` when the block neither wrote nor wiped it.
fn slot(output: &BlockOutput, address: Address, slot: u64) -> Option<U256> {
    output.state.state[&address].storage_slot(U256::from(slot))
}

#[test]
fn a_creation_onto_storage_collides_unless_the_account_was_removed() {
    let (_, state) = collision_block();
    let output = run(Engine::Sequential, &state);
    let statuses: Vec<&TxStatus> = output.transactions.iter().map(|tx| &tx.status).collect();
    let collision = TxStatus::Halt(HaltReason::CreateCollision);
    assert_eq!(
        statuses,
        [
            &TxStatus::Success,
            &TxStatus::Success,
            &collision,
            &TxStatus::Success
        ]
    );
    // Touched while empty, the first account left with its storage; the creation then
    // succeeded there, and the account starts over with a nonce and no storage.
    let created = CREATOR.create(0);
    assert_eq!(output.transactions[1].created, Some(created));
    assert_eq!(info(&output, created).unwrap().nonce, 1);
    assert_eq!(slot(&output, created, 1), Some(U256::ZERO));
    // The colliding transaction consumed all its gas and its sender's nonce; the account it
    // aimed at is unchanged.
    assert_eq!(output.transactions[2].gas_used, CREATE_GAS);
    assert_eq!(info(&output, BLOCKED_CREATOR).unwrap().nonce, 1);
    assert!(!output.state.state.contains_key(&BLOCKED_CREATOR.create(0)));
    // CREATE2 onto storage pushed zero and bumped the factory's nonce; its target is unchanged.
    assert_eq!(slot(&output, FACTORY, 0), Some(U256::ZERO));
    assert_eq!(info(&output, FACTORY).unwrap().nonce, 2);
    assert!(!output.state.state.contains_key(&create2_target()));
}

#[test]
fn both_engines_agree_on_storage_collisions_at_every_thread_count() {
    let (_, state) = collision_block();
    let expected = run(Engine::Sequential, &state);
    for threads in [1, 2, 4, 8] {
        let parallel = Engine::Parallel(ParallelConfig {
            threads,
            fallback: Fallback::Never,
        });
        assert_eq!(run(parallel, &state), expected, "{threads} threads");
    }
}

/// A provider that only forwards revm's reads: the defaults of [`StateProvider`].
#[derive(Debug)]
struct ReadsOnly(InMemoryState);

impl DatabaseRef for ReadsOnly {
    type Error = <InMemoryState as DatabaseRef>::Error;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        self.0.basic_ref(address)
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        self.0.code_by_hash_ref(code_hash)
    }

    fn storage_ref(
        &self,
        address: Address,
        index: StorageKey,
    ) -> Result<StorageValue, Self::Error> {
        self.0.storage_ref(address, index)
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        self.0.block_hash_ref(number)
    }
}

impl StateProvider for ReadsOnly {}

#[test]
fn a_provider_without_storage_answers_creates_as_revm_does() {
    let (_, state) = collision_block();
    for engine in [
        Engine::Sequential,
        Engine::Parallel(ParallelConfig {
            threads: 2,
            fallback: Fallback::Never,
        }),
    ] {
        let output = run(engine, ReadsOnly(state.clone()));
        assert!(
            (output.transactions.iter()).all(|tx| tx.status == TxStatus::Success),
            "{engine}"
        );
        assert_eq!(
            slot(&output, FACTORY, 0),
            Some(U256::from_be_slice(create2_target().as_slice()))
        );
    }
}
