//! What the block says about its transactions before any of them runs: which ones are worth
//! starting before their turn. (Those that depend on each other through their sender are
//! found by the fallback's survey, in the same pass as the chains it judges.)

use super::mv_memory::TxIdx;
use crate::BlockInput;
use alloy_consensus::Transaction;

/// Calldata of at least this many bytes marks a transaction as likely heavy. On the mainnet
/// fixtures the transactions that take 40-53% of a block's execution time (proof verifiers and
/// batch submissions: 18426253's with 80 KB of calldata, 18988207's with 93 KB, 19426587's
/// with 11 KB) are the ones with the most calldata, while gas limits do not tell them apart
/// (19932703's takes half of the block with 2 KB and a 556,000 gas limit).
const HEAVY_INPUT_BYTES: usize = 2_048;

/// A gas limit of at least this share of the block's marks a transaction as likely heavy,
/// whatever its calldata: on the mainnet fixtures 12244000's transaction 49 (9 of 12.5 million,
/// 164 bytes of calldata) takes 49% of the block's execution time, 15537394's 25 (26 of 30
/// million) 82%, 6137495's 17 (3.9 of 8 million) 16%, 7280000's 42 (2.2 of 8 million) 31%.
/// A quarter rather than two fifths catches the last one: 7280000 runs 7-11% faster, and the
/// three other blocks whose early transactions it changes (12244000, 5526571, 9069000: each
/// gains one that reads nothing a lower one writes) within 2-5% as before. A fiftieth adds
/// transactions that read what lower ones write, and ran 15274915 3-4% slower.
const HEAVY_GAS_SHARE: (u64, u64) = (1, 4);

/// At most this many transactions start before their turn: a wrong guess costs at most one
/// early execution of each (and a second one if it read what a lower transaction writes).
const MAX_EARLY: usize = 4;

/// The transactions that should start at once rather than in their turn, heaviest guess
/// first: those with the most calldata (at least [`HEAVY_INPUT_BYTES`]), then those with the
/// largest gas limits (at least [`HEAVY_GAS_SHARE`] of the block's). In index order such
/// a transaction starts only when the threads have worked through everything below it; if it
/// alone takes half of the block, one thread then runs it while the others run out of work.
/// Started at once, it runs beside the rest. Even at a tenth of the block that pays:
/// 18988207's transaction 23 of 186 (93 KB) takes 41% of its execution time.
pub(crate) fn early_transactions(block: &BlockInput) -> Vec<TxIdx> {
    let (share, of) = HEAVY_GAS_SHARE;
    let least_gas = block.header.gas_limit / of * share;
    let mut heavy: Vec<(usize, TxIdx)> = Vec::new();
    let mut large: Vec<(u64, TxIdx)> = Vec::new();
    // One pass: on blocks of thousands of transactions each costs tens of microseconds.
    for (index, tx) in block.transactions.iter().enumerate() {
        let bytes = tx.input().len();
        if bytes >= HEAVY_INPUT_BYTES {
            heavy.push((bytes, index));
        } else if least_gas > 0 && tx.gas_limit() >= least_gas {
            // Those with large calldata are in `heavy` already.
            large.push((tx.gas_limit(), index));
        }
    }
    heavy.sort_unstable_by(|a, b| b.cmp(a));
    large.sort_unstable_by(|a, b| b.cmp(a));
    let by_input = heavy.into_iter().map(|(_, index)| index);
    let by_gas = large.into_iter().map(|(_, index)| index);
    by_input.chain(by_gas).take(MAX_EARLY).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parallel::test_txs::signed;
    use alloy_consensus::{Header, TxLegacy};
    use alloy_primitives::{Address, TxKind};

    /// A block of 10 million gas of transactions from `(sender, calldata bytes)`, each with a
    /// gas limit of 100,000.
    fn block(txs: &[(u8, usize)]) -> BlockInput {
        let txs: Vec<_> = (txs.iter())
            .map(|&(sender, input_len)| (sender, input_len, 100_000))
            .collect();
        block_with_gas(&txs)
    }

    /// The same from `(sender, calldata bytes, gas limit)`.
    fn block_with_gas(txs: &[(u8, usize, u64)]) -> BlockInput {
        let transactions = (txs.iter())
            .map(|&(sender, input_len, gas_limit)| {
                let tx = TxLegacy {
                    to: TxKind::Call(Address::with_last_byte(0xb0)),
                    input: vec![1; input_len].into(),
                    gas_limit,
                    ..TxLegacy::default()
                };
                signed(Address::with_last_byte(sender), tx)
            })
            .collect();
        BlockInput {
            header: Header {
                gas_limit: 10_000_000,
                ..Header::default()
            },
            transactions,
            ommers: Vec::new(),
            withdrawals: None,
        }
    }

    #[test]
    fn the_largest_calldata_starts_early_heaviest_first() {
        let mut txs = vec![(1, 0); 12];
        txs[1] = (2, 50_000);
        // Below the threshold.
        txs[4] = (3, HEAVY_INPUT_BYTES - 1);
        txs[5] = (4, HEAVY_INPUT_BYTES);
        txs[9] = (5, 80_000);
        assert_eq!(early_transactions(&block(&txs)), vec![9, 1, 5]);
        // At most `MAX_EARLY`, the largest.
        let txs: Vec<_> = (0..12).map(|i| (i as u8, 3_000 + i * 100)).collect();
        assert_eq!(early_transactions(&block(&txs)), vec![11, 10, 9, 8]);
        assert!(early_transactions(&block(&[])).is_empty());
    }

    #[test]
    fn a_gas_limit_of_a_quarter_of_the_block_starts_early_after_the_largest_calldata() {
        let mut txs = vec![(1, 0, 100_000); 12];
        txs[2] = (2, 0, 2_500_000);
        txs[3] = (3, 0, 2_499_999);
        txs[6] = (4, 0, 6_000_000);
        // Large calldata and a large gas limit: once, in the calldata's place.
        txs[8] = (5, HEAVY_INPUT_BYTES, 5_000_000);
        assert_eq!(early_transactions(&block_with_gas(&txs)), vec![8, 6, 2]);
        // Without a block gas limit, no gas limit is large.
        let mut block = block_with_gas(&txs);
        block.header.gas_limit = 0;
        assert_eq!(early_transactions(&block), vec![8]);
    }
}
