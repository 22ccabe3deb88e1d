//! Sequential execution of every mainnet fixture and of a generated transfer block, with gas
//! as the throughput so criterion reports gas per second (`Melem/s` reads as Mgas/s).
//!
//! Each block runs twice: through pel's sequential engine (`sequential/<block>`), and as a plain
//! revm loop over the transactions with a `CacheDB` and no receipts, rewards or bundle state
//! (`revm/<block>`), the floor that the engine's bookkeeping is measured against.

use criterion::{
    BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime,
};
use pel::{BlockInput, Chain, Engine, InMemoryState, chain::tx_env};
use pel_inputs::{find_fixtures, load_fixture, shared, synthetic};
use revm::{Context, ExecuteCommitEvm, MainBuilder, MainContext, database::CacheDB};
use std::{hint::black_box, time::Duration};

/// The allocator the `pel` binary uses, so that these numbers match `pel bench`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The blocks to measure with the gas each uses: a generated one, then every shared mainnet
/// fixture that uses gas.
fn blocks(chain: &Chain) -> Vec<(String, BlockInput, InMemoryState, u64)> {
    let (block, state) = synthetic::transfers(1_000, 1);
    let gas = pel::sequential::execute(chain, &block, &state)
        .expect("block executes")
        .gas_used;
    let mut blocks = vec![("transfers-1000".to_owned(), block, state, gas)];
    let dirs = shared::fixtures_or_skip("fixtures/mainnet")
        .map(|dir| find_fixtures(&dir).expect("the shared mainnet fixtures are listed"))
        .unwrap_or_default();
    for dir in dirs {
        let fixture = load_fixture(&dir).unwrap_or_else(|e| panic!("{e}"));
        let gas = fixture.block.header.gas_used;
        if gas > 0 {
            let name = fixture.block.header.number.to_string();
            blocks.push((name, fixture.block, fixture.state, gas));
        }
    }
    blocks
}

fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300));
    group.measurement_time(Duration::from_secs(1));
}

fn sequential(c: &mut Criterion) {
    pel::warm_up();
    let chain = Chain::mainnet();
    let blocks = blocks(&chain);

    let mut group = c.benchmark_group("sequential");
    configure(&mut group);
    for (name, block, state, gas) in &blocks {
        group.throughput(Throughput::Elements(*gas));
        group.bench_function(name, |b| {
            b.iter(|| black_box(Engine::Sequential.execute(&chain, block, state)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("revm");
    configure(&mut group);
    for (name, block, state, gas) in &blocks {
        let env = chain.evm_env(&block.header);
        group.throughput(Throughput::Elements(*gas));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut evm = Context::mainnet()
                    .with_db(CacheDB::new(state))
                    .with_cfg(env.cfg_env.clone())
                    .with_block(env.block_env.clone())
                    .build_mainnet();
                for tx in &block.transactions {
                    black_box(
                        evm.transact_commit(tx_env(tx))
                            .expect("transaction executes"),
                    );
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sequential);
criterion_main!(benches);
