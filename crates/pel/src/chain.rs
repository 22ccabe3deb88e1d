//! Chain rules: the hardfork schedule, and the EVM environment a block header implies.
//!
//! The schedule itself comes from `alloy-hardforks`; this module decides, for one header, which
//! revm [`SpecId`] governs it, which blob parameters apply, and builds the block and config
//! environment the way reth does (through `alloy-evm`).

use alloy_consensus::{Header, TxEnvelope, transaction::Recovered};
use alloy_eips::{eip6110::MAINNET_DEPOSIT_CONTRACT_ADDRESS, eip7840::BlobParams};
use alloy_evm::{
    EvmEnv, FromRecoveredTx, eth::spec::EthExecutorSpec, spec_by_timestamp_and_block_number,
};
use alloy_hardforks::{EthereumChainHardforks, EthereumHardfork, EthereumHardforks, ForkCondition};
use alloy_primitives::Address;
use revm::{context::TxEnv, primitives::hardfork::SpecId};

/// The fork schedule and chain id a block is executed under.
///
/// It implements [`EthereumHardforks`] and [`EthExecutorSpec`], so it plugs straight into
/// `alloy-evm`'s block executor, system calls and reward computation.
#[derive(Debug, Clone)]
pub struct Chain {
    hardforks: EthereumChainHardforks,
    chain_id: u64,
    deposit_contract: Option<Address>,
}

impl Chain {
    /// Ethereum mainnet: forks by block number up to Paris, by timestamp from Shanghai on.
    pub fn mainnet() -> Self {
        Self {
            hardforks: EthereumChainHardforks::mainnet(),
            chain_id: 1,
            deposit_contract: Some(MAINNET_DEPOSIT_CONTRACT_ADDRESS),
        }
    }

    /// A chain whose every fork up to and including `spec` is active from genesis, the way
    /// conformance tests pin one fork for a whole test.
    pub fn single_fork(spec: SpecId, chain_id: u64) -> Self {
        let forks = FORKS
            .iter()
            .filter(|(_, fork_spec)| *fork_spec <= spec)
            .map(|(fork, fork_spec)| {
                let condition = if *fork_spec >= SpecId::SHANGHAI {
                    ForkCondition::Timestamp(0)
                } else {
                    ForkCondition::Block(0)
                };
                (*fork, condition)
            });
        Self {
            hardforks: EthereumChainHardforks::new(forks),
            chain_id,
            deposit_contract: None,
        }
    }

    /// The chain id transactions are signed for and `CHAINID` returns.
    pub const fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The revm spec that governs a block with this number and timestamp.
    pub fn spec_id(&self, number: u64, timestamp: u64) -> SpecId {
        spec_by_timestamp_and_block_number(self, timestamp, number)
    }

    /// Blob gas parameters in force at `timestamp`, or `None` before Cancun.
    pub fn blob_params(&self, timestamp: u64) -> Option<BlobParams> {
        if self.is_osaka_active_at_timestamp(timestamp) {
            Some(BlobParams::osaka())
        } else if self.is_prague_active_at_timestamp(timestamp) {
            Some(BlobParams::prague())
        } else if self.is_cancun_active_at_timestamp(timestamp) {
            Some(BlobParams::cancun())
        } else {
            None
        }
    }

    /// Whether receipts carry a status code (Byzantium on) rather than an intermediate state root.
    pub fn has_receipt_status(&self, number: u64) -> bool {
        self.is_byzantium_active_at_block(number)
    }

    /// The block and config environment for executing the block with this header.
    pub fn evm_env(&self, header: &Header) -> EvmEnv {
        EvmEnv::for_eth_block(
            header,
            self,
            self.chain_id,
            self.blob_params(header.timestamp),
        )
    }
}

/// The revm transaction environment for a transaction of any type, as every engine builds it:
/// for EIP-1559 and later types `gas_price` is the fee cap and `gas_priority_fee` the tip, a
/// pre-EIP-155 legacy transaction has no chain id, and EIP-7702 authorities are recovered here.
pub fn tx_env(tx: &Recovered<TxEnvelope>) -> TxEnv {
    TxEnv::from_recovered_tx(tx.inner(), tx.signer())
}

/// Every fork that changes execution, in order, with the revm spec it enables.
const FORKS: [(EthereumHardfork, SpecId); 14] = [
    (EthereumHardfork::Frontier, SpecId::FRONTIER),
    (EthereumHardfork::Homestead, SpecId::HOMESTEAD),
    (EthereumHardfork::Tangerine, SpecId::TANGERINE),
    (EthereumHardfork::SpuriousDragon, SpecId::SPURIOUS_DRAGON),
    (EthereumHardfork::Byzantium, SpecId::BYZANTIUM),
    (EthereumHardfork::Constantinople, SpecId::PETERSBURG),
    (EthereumHardfork::Petersburg, SpecId::PETERSBURG),
    (EthereumHardfork::Istanbul, SpecId::ISTANBUL),
    (EthereumHardfork::Berlin, SpecId::BERLIN),
    (EthereumHardfork::London, SpecId::LONDON),
    (EthereumHardfork::Paris, SpecId::MERGE),
    (EthereumHardfork::Shanghai, SpecId::SHANGHAI),
    (EthereumHardfork::Cancun, SpecId::CANCUN),
    (EthereumHardfork::Prague, SpecId::PRAGUE),
];

impl EthereumHardforks for Chain {
    fn ethereum_fork_activation(&self, fork: EthereumHardfork) -> ForkCondition {
        self.hardforks.ethereum_fork_activation(fork)
    }
}

impl EthExecutorSpec for Chain {
    fn deposit_contract_address(&self) -> Option<Address> {
        self.deposit_contract
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (last block of the old fork, first block of the new one, spec before, spec after)
    const BLOCK_BOUNDARIES: [(u64, SpecId, SpecId); 10] = [
        (1_150_000, SpecId::FRONTIER, SpecId::HOMESTEAD),
        (2_463_000, SpecId::HOMESTEAD, SpecId::TANGERINE),
        (2_675_000, SpecId::TANGERINE, SpecId::SPURIOUS_DRAGON),
        (4_370_000, SpecId::SPURIOUS_DRAGON, SpecId::BYZANTIUM),
        (7_280_000, SpecId::BYZANTIUM, SpecId::PETERSBURG),
        (9_069_000, SpecId::PETERSBURG, SpecId::ISTANBUL),
        (12_244_000, SpecId::ISTANBUL, SpecId::BERLIN),
        (12_965_000, SpecId::BERLIN, SpecId::LONDON),
        (15_537_394, SpecId::LONDON, SpecId::MERGE),
        (17_034_870, SpecId::MERGE, SpecId::SHANGHAI),
    ];

    #[test]
    fn mainnet_forks_switch_at_their_first_block() {
        let chain = Chain::mainnet();
        // Timestamps that keep the timestamp-scheduled forks inactive, except for Shanghai.
        for (first, before, after) in BLOCK_BOUNDARIES {
            let (ts_before, ts_after) = if after == SpecId::SHANGHAI {
                (1_681_338_455 - 1, 1_681_338_455)
            } else {
                (0, 0)
            };
            assert_eq!(
                chain.spec_id(first - 1, ts_before),
                before,
                "block {}",
                first - 1
            );
            assert_eq!(chain.spec_id(first, ts_after), after, "block {first}");
        }
    }

    #[test]
    fn mainnet_timestamp_forks() {
        let chain = Chain::mainnet();
        let cancun = 1_710_338_135;
        let prague = 1_746_612_311;
        assert_eq!(chain.spec_id(19_426_586, cancun - 1), SpecId::SHANGHAI);
        assert_eq!(chain.spec_id(19_426_587, cancun), SpecId::CANCUN);
        assert_eq!(chain.spec_id(22_431_083, prague - 1), SpecId::CANCUN);
        assert_eq!(chain.spec_id(22_431_084, prague), SpecId::PRAGUE);
        assert_eq!(chain.blob_params(cancun - 1), None);
        assert_eq!(chain.blob_params(cancun), Some(BlobParams::cancun()));
        assert_eq!(chain.blob_params(prague), Some(BlobParams::prague()));
    }

    #[test]
    fn receipts_carry_status_from_byzantium() {
        let chain = Chain::mainnet();
        assert!(!chain.has_receipt_status(4_369_999));
        assert!(chain.has_receipt_status(4_370_000));
    }

    #[test]
    fn single_fork_chain_enables_exactly_that_spec() {
        for (_, spec) in FORKS {
            let chain = Chain::single_fork(spec, 1);
            assert_eq!(chain.spec_id(1, 1), spec);
        }
    }

    #[test]
    fn block_env_before_and_after_the_merge() {
        let chain = Chain::mainnet();
        let mut header = Header {
            number: 15_537_393,
            difficulty: alloy_primitives::U256::from(12345),
            mix_hash: alloy_primitives::B256::repeat_byte(7),
            gas_limit: 30_000_000,
            base_fee_per_gas: Some(9),
            ..Header::default()
        };
        let env = chain.evm_env(&header);
        assert_eq!(
            env.block_env.difficulty,
            alloy_primitives::U256::from(12345)
        );
        assert_eq!(env.block_env.prevrandao, None);
        assert_eq!(env.block_env.basefee, 9);
        assert_eq!(env.cfg_env.spec, SpecId::LONDON);
        assert_eq!(env.cfg_env.chain_id, 1);

        header.number = 15_537_394;
        let env = chain.evm_env(&header);
        assert_eq!(env.block_env.difficulty, alloy_primitives::U256::ZERO);
        assert_eq!(
            env.block_env.prevrandao,
            Some(alloy_primitives::B256::repeat_byte(7))
        );
        assert_eq!(env.cfg_env.spec, SpecId::MERGE);
    }

    #[test]
    fn blob_base_fee_follows_excess_blob_gas() {
        let chain = Chain::mainnet();
        let header = Header {
            number: 19_426_587,
            timestamp: 1_710_338_135,
            excess_blob_gas: Some(10_000_000),
            blob_gas_used: Some(0),
            ..Header::default()
        };
        let env = chain.evm_env(&header);
        let blob = env
            .block_env
            .blob_excess_gas_and_price
            .expect("cancun has blob gas");
        assert_eq!(blob.excess_blob_gas, 10_000_000);
        assert_eq!(
            blob.blob_gasprice,
            BlobParams::cancun().calc_blob_fee(10_000_000)
        );
        assert!(blob.blob_gasprice > 1);
    }
}
