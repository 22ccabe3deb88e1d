//! The parallel engine against the sequential reference: identical output on generated and
//! mainnet blocks at 1, 2, 4 and 8 threads.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use pel::{
    BlockInput, Chain, Engine, InMemoryState,
    parallel::{Fallback, Mode, ParallelConfig, ParallelStats, execute},
    sequential,
};
use pel_inputs::{find_fixtures, load_fixture, shared, synthetic};

fn forced(threads: usize) -> ParallelConfig {
    ParallelConfig {
        threads,
        fallback: Fallback::Never,
    }
}

/// Parallel output at `threads` equals sequential output, field by field for a clear message.
fn assert_same(
    chain: &Chain,
    block: &BlockInput,
    state: &InMemoryState,
    threads: usize,
) -> ParallelStats {
    assert_same_with(chain, block, state, forced(threads))
}

/// [`assert_same`] with the parallel engine configured as `config` says.
fn assert_same_with(
    chain: &Chain,
    block: &BlockInput,
    state: &InMemoryState,
    config: ParallelConfig,
) -> ParallelStats {
    let threads = config.threads;
    let expected = sequential::execute(chain, block, state);
    let actual = execute(chain, block, state, config);
    let (expected, (actual, stats)) = match (expected, actual) {
        (Ok(expected), Ok(actual)) => (expected, actual),
        (Err(expected), Err(actual)) => {
            assert_eq!(expected.to_string(), actual.to_string());
            return ParallelStats::default();
        }
        (expected, actual) => panic!("sequential {expected:?} but parallel {actual:?}"),
    };
    let name = block.header.number;
    assert_eq!(
        expected.gas_used, actual.gas_used,
        "block {name} gas, {threads} threads"
    );
    assert_eq!(
        expected.transactions, actual.transactions,
        "block {name} outcomes"
    );
    assert_eq!(expected.receipts, actual.receipts, "block {name} receipts");
    assert_eq!(expected.blob_gas_used, actual.blob_gas_used);
    for (address, account) in &expected.state.state {
        assert_eq!(
            Some(account),
            actual.state.state.get(address),
            "block {name}, account {address}, {threads} threads"
        );
    }
    for address in actual.state.state.keys() {
        assert!(
            expected.state.state.contains_key(address),
            "block {name}, account {address} changed in parallel only, {threads} threads"
        );
    }
    assert_eq!(
        expected.state.contracts, actual.state.contracts,
        "block {name} new contracts, {threads} threads"
    );
    assert_eq!(
        expected.state, actual.state,
        "block {name} bundle, {threads} threads"
    );
    // Right, but only because the block ran a second time: the commit deferred an account
    // that the block's own changes reach.
    assert_ne!(stats.mode, Mode::Rerun, "block {name}, {threads} threads");
    stats
}

#[test]
fn generated_transfers_match_sequential_at_every_thread_count() {
    let chain = Chain::mainnet();
    let (block, state) = synthetic::transfers(200, 7);
    for threads in [1, 2, 4, 8] {
        let stats = assert_same(&chain, &block, &state, threads);
        assert_eq!(stats.mode, Mode::Parallel);
    }
}

#[test]
fn empty_and_single_transaction_blocks_work() {
    let chain = Chain::mainnet();
    for txs in [0, 1] {
        let (block, state) = synthetic::transfers(txs, 3);
        for threads in [1, 8] {
            assert_same(&chain, &block, &state, threads);
        }
    }
}

#[test]
fn small_blocks_fall_back_to_sequential_under_auto() {
    let chain = Chain::mainnet();
    let (block, state) = synthetic::transfers(2, 3);
    let config = ParallelConfig {
        threads: 2,
        fallback: Fallback::Auto,
    };
    let (_, stats) = execute(&chain, &block, &state, config).unwrap();
    assert_eq!(
        stats.mode,
        Mode::Unprofitable(pel::parallel::Unprofitable::Small)
    );
}

#[test]
fn every_mainnet_fixture_matches_sequential() {
    let Some(dir) = shared::fixtures_or_skip("fixtures/mainnet") else {
        return;
    };
    let chain = Chain::mainnet();
    for fixture_dir in find_fixtures(&dir).unwrap() {
        let fixture = load_fixture(&fixture_dir).unwrap();
        for threads in [1, 2, 4, 8] {
            assert_same(&chain, &fixture.block, &fixture.state, threads);
        }
    }
}

/// The parallel engine runs these blocks in order, with a receipt builder of its own (blooms
/// from a memo of hashes): one thread, a small block, and the mainnet blocks it judges
/// unprofitable.
#[test]
fn blocks_the_parallel_engine_runs_in_order_match_sequential() {
    let chain = Chain::mainnet();
    let auto = |threads| ParallelConfig {
        threads,
        fallback: Fallback::Auto,
    };
    let (block, state) = synthetic::unsealed(synthetic::Workload::Erc20, 120, 5);
    let stats = assert_same_with(&chain, &block, &state, auto(1));
    assert_eq!(stats.mode, Mode::OneThread);
    let (block, state) = synthetic::unsealed(synthetic::Workload::Erc20, 3, 5);
    let stats = assert_same_with(&chain, &block, &state, auto(2));
    assert_eq!(
        stats.mode,
        Mode::Unprofitable(pel::parallel::Unprofitable::Small)
    );
    let Some(dir) = shared::fixtures_or_skip("fixtures/mainnet") else {
        return;
    };
    let mut in_order = 0;
    for fixture_dir in find_fixtures(&dir).unwrap() {
        let fixture = load_fixture(&fixture_dir).unwrap();
        let stats = assert_same_with(&chain, &fixture.block, &fixture.state, auto(2));
        in_order += usize::from(stats.mode != Mode::Parallel);
    }
    assert!(in_order > 10, "{in_order} mainnet blocks ran in order");
}

#[test]
fn repeated_runs_are_bit_identical() {
    let chain = Chain::mainnet();
    let (block, state) = synthetic::transfers(64, 11);
    let engine = Engine::Parallel(forced(4));
    let first = engine.execute(&chain, &block, &state).unwrap();
    for _ in 0..5 {
        assert_eq!(engine.execute(&chain, &block, &state).unwrap(), first);
    }
}

#[test]
fn the_fallback_sees_small_blocks_and_lets_thousands_of_transfers_run_in_parallel() {
    use pel::parallel::{Unprofitable, unprofitable};
    let chain = Chain::mainnet();
    let (small, state) = synthetic::transfers(3, 1);
    assert_eq!(
        unprofitable(&chain, &small, &state),
        Some(Unprofitable::Small)
    );
    let (few, state) = synthetic::transfers(500, 1);
    assert_eq!(
        unprofitable(&chain, &few, &state),
        Some(Unprofitable::Transfers)
    );
    let (many, state) = synthetic::transfers(1_000, 1);
    assert_eq!(unprofitable(&chain, &many, &state), None);
}

#[test]
fn the_fallback_lets_mainnet_contract_blocks_run_in_parallel() {
    let Some(dir) = shared::fixtures_or_skip("fixtures/mainnet/17034869") else {
        return;
    };
    let fixture = load_fixture(&dir).unwrap();
    let unprofitable =
        pel::parallel::unprofitable(&Chain::mainnet(), &fixture.block, &fixture.state);
    assert_eq!(unprofitable, None);
    let (_, stats) = execute(
        &Chain::mainnet(),
        &fixture.block,
        &fixture.state,
        ParallelConfig {
            threads: 2,
            fallback: Fallback::Auto,
        },
    )
    .unwrap();
    assert_eq!(stats.mode, Mode::Parallel);
    assert_eq!(stats.threads, 2);
}

/// Payout batches: a chain through one sender runs sequentially only when it holds most of
/// the block's transactions and most of its gas (BENCHMARKS.md, fourth session), and plain
/// transfers, whose debits of their sender are predicted, form no chain (twentieth session);
/// deposits into one account without code are no chain (twelfth session); a few hundred
/// cheap transactions of other kinds than plain transfers do not run sequentially
/// (fourteenth session).
#[test]
fn the_fallback_weighs_payout_chains_by_gas_and_runs_cheap_mixed_blocks_in_parallel() {
    use pel::parallel::unprofitable;
    for (number, expected) in [
        // Most of the transactions in one chain, but not most of the gas.
        ("13217637", None),
        ("15274915", None),
        // Most of the gas limits in one transaction, which is no chain.
        ("15537394", None),
        // 1,197 of the 1,346 transactions are deposits into one account without code.
        ("14396881", None),
        // A payout batch of 99% of the gas, in plain transfers.
        ("13287210", None),
        // 237 transactions of 28,000 gas on average, 69% of them plain transfers.
        ("4330482", None),
    ] {
        let Some(dir) = shared::fixtures_or_skip(&format!("fixtures/mainnet/{number}")) else {
            return;
        };
        let fixture = load_fixture(&dir).unwrap();
        let verdict = unprofitable(&Chain::mainnet(), &fixture.block, &fixture.state);
        assert_eq!(verdict, expected, "block {number}");
    }
}
