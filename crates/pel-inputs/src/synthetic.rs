//! Synthetic blocks that pel generates itself, so tests and benchmarks run without shared data.
//!
//! Every transaction is really signed, and the header's commitments (`gasUsed`, `logsBloom`,
//! `receiptsRoot`) come from executing the block with the sequential reference.

use crate::wallet::Wallet;
use alloy_consensus::{Header, TxEip1559};
use alloy_primitives::{Address, B256, TxKind, U256};
use pel::{
    BlockInput, Chain, ExecuteError, InMemoryState, PreAccount,
    receipts::{logs_bloom, receipts_root},
};
use revm::state::AccountInfo;

/// Number and timestamp of generated blocks: Cancun on mainnet.
const NUMBER: u64 = 19_500_000;
const TIMESTAMP: u64 = 1_712_000_000;
/// Base fee of generated blocks, in wei.
const BASE_FEE: u64 = 7_000_000_000;

/// A Cancun header for a generated block, before its commitments are filled in.
pub fn cancun_header(coinbase: Address) -> Header {
    Header {
        number: NUMBER,
        timestamp: TIMESTAMP,
        beneficiary: coinbase,
        gas_limit: 30_000_000,
        base_fee_per_gas: Some(BASE_FEE),
        parent_beacon_block_root: Some(B256::ZERO),
        withdrawals_root: Some(alloy_consensus::constants::EMPTY_WITHDRAWALS),
        blob_gas_used: Some(0),
        excess_blob_gas: Some(0),
        ..Header::default()
    }
}

/// `count` independent ETH transfers, each from its own funded sender to its own receiver.
pub fn transfers(count: usize, seed: u64) -> (BlockInput, InMemoryState) {
    let mut state = InMemoryState::default();
    let mut transactions = Vec::with_capacity(count);
    for i in 0..count as u64 {
        let sender = Wallet::from_seed(seed.wrapping_mul(1_000_003).wrapping_add(i));
        fund(&mut state, sender.address(), U256::from(10u128.pow(18)));
        let receiver = Address::left_padding_from(&(0x1000_0000 + i).to_be_bytes());
        let tx = TxEip1559 {
            chain_id: 1,
            nonce: 0,
            gas_limit: 21_000,
            max_fee_per_gas: u128::from(BASE_FEE) * 2,
            max_priority_fee_per_gas: 1_000_000_000,
            to: TxKind::Call(receiver),
            value: U256::from(1_000 + i),
            ..TxEip1559::default()
        };
        transactions.push(sender.sign(tx));
    }
    let block = BlockInput {
        header: cancun_header(Address::repeat_byte(0xcb)),
        transactions,
        ommers: Vec::new(),
        withdrawals: Some(Vec::new()),
    };
    (block, state)
}

/// Gives `address` a balance in the pre-state.
pub fn fund(state: &mut InMemoryState, address: Address, balance: U256) {
    let info = AccountInfo::default().with_balance(balance);
    state.insert_account(
        address,
        PreAccount {
            info,
            storage: Default::default(),
        },
    );
}

/// Fills the header's `gasUsed`, `logsBloom` and `receiptsRoot` from a sequential execution.
pub fn seal(
    chain: &Chain,
    mut block: BlockInput,
    state: &InMemoryState,
) -> Result<BlockInput, ExecuteError> {
    let output = pel::sequential::execute(chain, &block, state)?;
    block.header.gas_used = output.gas_used;
    block.header.logs_bloom = logs_bloom(&output.receipts);
    block.header.receipts_root = receipts_root(&output.receipts);
    Ok(block)
}
