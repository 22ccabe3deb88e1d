//! The synthetic workloads: every transaction succeeds, both engines agree, the same seed gives
//! the same block, and the committed bytecode is what the sources compile to.

use pel::{
    Chain, Engine, TxStatus,
    parallel::{Fallback, ParallelConfig},
};
use pel_inputs::synthetic::{self, Workload, contracts::Contract};
use std::{path::Path, process::Command};

#[test]
fn every_workload_executes_every_transaction_successfully_on_both_engines() {
    let chain = Chain::mainnet();
    for workload in Workload::ALL {
        let (block, state) = synthetic::generate(&chain, workload, 300, 5).unwrap();
        let sequential = Engine::Sequential.execute(&chain, &block, &state).unwrap();
        for (index, outcome) in sequential.transactions.iter().enumerate() {
            assert_eq!(
                outcome.status,
                TxStatus::Success,
                "{workload}: transaction {index} did not succeed: {outcome:?}"
            );
        }
        let gas_per_tx = sequential.gas_used / 300;
        eprintln!("{workload}: {gas_per_tx} gas per transaction");
        assert!(gas_per_tx >= 21_000, "{workload}");
        for threads in [1, 2, 4] {
            let engine = Engine::Parallel(ParallelConfig {
                threads,
                fallback: Fallback::Never,
            });
            let parallel = engine.execute(&chain, &block, &state).unwrap();
            assert_eq!(parallel, sequential, "{workload} at {threads} threads");
        }
    }
}

#[test]
fn contract_workloads_emit_their_events() {
    let chain = Chain::mainnet();
    for (workload, logs_per_tx) in [
        (Workload::Erc20, 1),
        (Workload::Amm, 4),
        (Workload::HotContract, 1),
    ] {
        let (block, state) = synthetic::generate(&chain, workload, 20, 9).unwrap();
        let output = Engine::Sequential.execute(&chain, &block, &state).unwrap();
        for receipt in &output.receipts {
            assert_eq!(receipt.logs().len(), logs_per_tx, "{workload}");
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_block_and_another_seed_another() {
    let (a, state_a) = synthetic::unsealed(Workload::Mixed, 50, 1);
    let (b, state_b) = synthetic::unsealed(Workload::Mixed, 50, 1);
    let (c, _) = synthetic::unsealed(Workload::Mixed, 50, 2);
    assert_eq!(a.transactions, b.transactions);
    assert_eq!(state_a.accounts(), state_b.accounts());
    assert_ne!(a.transactions, c.transactions);
}

#[test]
fn workload_names_round_trip() {
    for workload in Workload::ALL {
        assert_eq!(Workload::from_name(workload.name()), Some(workload));
    }
    assert_eq!(Workload::from_name("nope"), None);
}

/// Runs `node build.mjs --check` where the contracts' npm dependencies are installed
/// (`npm ci` in `crates/pel-inputs/contracts`; `.ci/run` does it).
#[test]
fn committed_bytecode_matches_the_solidity_sources() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("contracts");
    for contract in Contract::ALL {
        let hex = contract.hex().trim();
        assert!(!hex.is_empty() && hex.len() % 2 == 0, "{}", contract.name());
        assert!(!contract.bytecode().is_empty(), "{}", contract.name());
    }
    if !dir.join("node_modules/solc").is_dir() {
        if std::env::var("PEL_REQUIRE_SOLC").as_deref() == Ok("1") {
            panic!(
                "PEL_REQUIRE_SOLC=1 but solc is not installed in {}",
                dir.display()
            );
        }
        eprintln!(
            "SKIP committed_bytecode_matches_the_solidity_sources: solc is not installed \
             (run `npm ci` in {})",
            dir.display()
        );
        return;
    }
    let status = Command::new("node")
        .arg("build.mjs")
        .arg("--check")
        .current_dir(&dir)
        .status()
        .expect("node runs");
    assert!(
        status.success(),
        "contracts/bin is stale: run `node build.mjs` in {}",
        dir.display()
    );
}

#[test]
fn a_hot_contract_falls_back_to_sequential_once_its_chain_shows() {
    let chain = Chain::mainnet();
    let auto = Engine::Parallel(ParallelConfig {
        threads: 2,
        fallback: Fallback::Auto,
    });
    // Nothing before execution tells a hot contract: the first committed transactions do.
    let (block, state) = synthetic::generate(&chain, Workload::HotContract, 400, 2).unwrap();
    let sequential = Engine::Sequential.execute(&chain, &block, &state).unwrap();
    let (output, stats) = auto.execute_with_stats(&chain, &block, &state).unwrap();
    assert_eq!(output, sequential);
    assert_eq!(stats.unwrap().mode, pel::parallel::Mode::Chain);
    let never = Engine::Parallel(ParallelConfig {
        threads: 2,
        fallback: Fallback::Never,
    });
    let (output, stats) = never.execute_with_stats(&chain, &block, &state).unwrap();
    assert_eq!(output, sequential);
    let stats = stats.unwrap();
    assert_eq!(stats.mode, pel::parallel::Mode::Parallel);
    let graph = stats.graph.unwrap();
    assert_eq!(graph.durations.len(), 400);
    // Every increment reads the one before it.
    for (index, dependencies) in graph.dependencies.iter().enumerate().skip(1) {
        assert!(
            dependencies.contains(&(index - 1)),
            "{index}: {dependencies:?}"
        );
    }
    assert_eq!(graph.depth(), 400);
    assert!(graph.ideal_speedup(2) < 1.05);
}

#[test]
fn independent_token_transfers_keep_running_in_parallel() {
    let chain = Chain::mainnet();
    let (block, state) = synthetic::generate(&chain, Workload::Erc20, 400, 2).unwrap();
    let auto = Engine::Parallel(ParallelConfig {
        threads: 2,
        fallback: Fallback::Auto,
    });
    let (_, stats) = auto.execute_with_stats(&chain, &block, &state).unwrap();
    let stats = stats.unwrap();
    assert_eq!(stats.mode, pel::parallel::Mode::Parallel);
    // By the shape of the graph, not the measured times (which a loaded machine distorts).
    let depth = stats.graph.unwrap().depth();
    eprintln!("erc20, 400 transactions: longest chain {depth}");
    assert!(depth * 4 < 400, "longest chain {depth}");
}
