//! Synthetic blocks that pel generates itself, so tests and benchmarks run without shared data
//! and measure the engines on workloads of known shape.
//!
//! Every transaction is really signed and executes real contracts (`contracts/src`), and the
//! header's commitments (`gasUsed`, `logsBloom`, `receiptsRoot`) come from executing the block
//! with the sequential reference.

pub mod contracts;
mod world;

use alloy_consensus::Header;
use alloy_primitives::{Address, B256, U256};
use pel::{
    BlockInput, Chain, ExecuteError, InMemoryState,
    receipts::{logs_bloom, receipts_root},
};
use world::{Kind, World};

/// Number and timestamp of generated blocks: Cancun on mainnet.
const NUMBER: u64 = 19_500_000;
const TIMESTAMP: u64 = 1_712_000_000;
/// Base fee of generated blocks, in wei.
const BASE_FEE: u64 = 7_000_000_000;
/// Gas limit of generated blocks, unless their transactions need more.
const GAS_LIMIT: u64 = 30_000_000;

/// The synthetic workloads of `pel gen` and `pel bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Workload {
    /// Independent ETH transfers, each from its own sender to its own receiver.
    Transfers,
    /// ETH transfers into eight receivers.
    TransfersHot,
    /// ERC-20 transfers between the block's senders on eight tokens.
    Erc20,
    /// Swaps through a router on 64 constant-product pools over 16 tokens.
    Amm,
    /// Every transaction increments one counter: one chain of dependencies.
    HotContract,
    /// A mainnet-like blend: 35% transfers, 5% hot transfers, 30% ERC-20, 20% swaps, 10% to
    /// the hot counter.
    Mixed,
}

impl Workload {
    /// Every workload, in the order `pel bench` runs them.
    pub const ALL: [Self; 6] = [
        Self::Transfers,
        Self::TransfersHot,
        Self::Erc20,
        Self::Amm,
        Self::HotContract,
        Self::Mixed,
    ];

    /// The name on the command line and in reports.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Transfers => "transfers",
            Self::TransfersHot => "transfers-hot",
            Self::Erc20 => "erc20",
            Self::Amm => "amm",
            Self::HotContract => "hot-contract",
            Self::Mixed => "mixed",
        }
    }

    /// The workload of a name, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.name() == name)
    }

    /// Transactions in the default block: about 170 Mgas each, so the six make a gigagas.
    pub const fn default_txs(self) -> usize {
        match self {
            Self::Transfers | Self::TransfersHot => 8_000,
            Self::Erc20 => 5_000,
            Self::Amm => 1_650,
            Self::HotContract => 6_000,
            Self::Mixed => 4_200,
        }
    }

    fn kind(self, rng: &mut world::Rng) -> Kind {
        match self {
            Self::Transfers => Kind::Transfer,
            Self::TransfersHot => Kind::TransferHot,
            Self::Erc20 => Kind::Erc20,
            Self::Amm => Kind::Swap,
            Self::HotContract => Kind::Increment,
            Self::Mixed => match rng.below(100) {
                0..35 => Kind::Transfer,
                35..40 => Kind::TransferHot,
                40..70 => Kind::Erc20,
                70..90 => Kind::Swap,
                _ => Kind::Increment,
            },
        }
    }
}

impl std::fmt::Display for Workload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A block of `txs` transactions of `workload` on its pre-state, the same for the same `seed`,
/// sealed with the sequential engine.
pub fn generate(
    chain: &Chain,
    workload: Workload,
    txs: usize,
    seed: u64,
) -> Result<(BlockInput, InMemoryState), ExecuteError> {
    let (block, state) = unsealed(workload, txs, seed);
    let block = seal(chain, block, &state)?;
    Ok((block, state))
}

/// `generate` without the header's commitments: the block is executable, `gasUsed`,
/// `logsBloom` and `receiptsRoot` are zero.
pub fn unsealed(workload: Workload, txs: usize, seed: u64) -> (BlockInput, InMemoryState) {
    let mut world = World::new(txs, seed);
    match workload {
        Workload::Erc20 => world.deploy_market(8, 0),
        Workload::Amm | Workload::Mixed => world.deploy_market(16, 64),
        _ => {}
    }
    for index in 0..txs {
        let kind = workload.kind(world.rng());
        world.push(index, kind);
    }
    let (state, transactions) = world.finish();
    let gas: u64 = transactions
        .iter()
        .map(|tx| alloy_consensus::Transaction::gas_limit(tx.inner()))
        .sum();
    let mut header = cancun_header(Address::repeat_byte(0xcb));
    header.gas_limit = gas.max(GAS_LIMIT);
    let block = BlockInput {
        header,
        transactions,
        ommers: Vec::new(),
        withdrawals: Some(Vec::new()),
    };
    (block, state)
}

/// A Cancun header for a generated block, before its commitments are filled in.
pub fn cancun_header(coinbase: Address) -> Header {
    Header {
        number: NUMBER,
        timestamp: TIMESTAMP,
        beneficiary: coinbase,
        gas_limit: GAS_LIMIT,
        base_fee_per_gas: Some(BASE_FEE),
        parent_beacon_block_root: Some(B256::ZERO),
        withdrawals_root: Some(alloy_consensus::constants::EMPTY_WITHDRAWALS),
        blob_gas_used: Some(0),
        excess_blob_gas: Some(0),
        ..Header::default()
    }
}

/// `count` independent ETH transfers, each from its own funded sender to its own receiver
/// (the `transfers` workload, unsealed).
pub fn transfers(count: usize, seed: u64) -> (BlockInput, InMemoryState) {
    unsealed(Workload::Transfers, count, seed)
}

/// Gives `address` a balance in the pre-state.
pub fn fund(state: &mut InMemoryState, address: Address, balance: U256) {
    world::fund(state, address, balance);
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
