//! The parallel engine against the sequential one on every mainnet fixture, in the same run:
//! `engines/<block>/sequential`, `engines/<block>/parallel-1` (Block-STM forced onto one
//! thread, to measure its overhead) and `engines/<block>/parallel-N` for N = 2 and the
//! machine's core count when larger. Gas is the throughput, so `Melem/s` reads as Mgas/s.
//!
//! `scripts/speedups.py` turns criterion's estimates into the table of BENCHMARKS.md.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pel::{
    Chain, Engine,
    parallel::{Fallback, ParallelConfig},
};
use pel_inputs::{find_fixtures, load_fixture, shared, synthetic};
use std::{hint::black_box, time::Duration};

/// The allocator the `pel` binary uses, so that these numbers match `pel bench`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn parallel(c: &mut Criterion) {
    pel::warm_up();
    let chain = Chain::mainnet();
    let mut blocks = vec![{
        let (block, state) = synthetic::transfers(1_000, 1);
        ("transfers-1000".to_owned(), block, state)
    }];
    let dirs = shared::fixtures_or_skip("fixtures/mainnet")
        .map(|dir| find_fixtures(&dir).expect("the shared mainnet fixtures are listed"))
        .unwrap_or_default();
    for dir in dirs {
        let fixture = load_fixture(&dir).unwrap_or_else(|e| panic!("{e}"));
        if fixture.block.header.gas_used > 0 {
            let name = fixture.block.header.number.to_string();
            blocks.push((name, fixture.block, fixture.state));
        }
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut engines = vec![
        ("sequential".to_owned(), Engine::Sequential),
        (
            "parallel-1".to_owned(),
            Engine::Parallel(ParallelConfig {
                threads: 1,
                fallback: Fallback::Never,
            }),
        ),
    ];
    for threads in [2, cores] {
        if engines
            .iter()
            .all(|(name, _)| *name != format!("parallel-{threads}"))
        {
            engines.push((
                format!("parallel-{threads}"),
                Engine::Parallel(ParallelConfig {
                    threads,
                    fallback: Fallback::Auto,
                }),
            ));
        }
    }
    for (name, block, state) in &blocks {
        let gas = Engine::Sequential
            .execute(&chain, block, state)
            .expect("block executes")
            .gas_used;
        let mut group = c.benchmark_group(format!("engines/{name}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(200))
            .measurement_time(Duration::from_millis(800))
            .throughput(Throughput::Elements(gas));
        for (engine_name, engine) in &engines {
            group.bench_function(engine_name, |b| {
                b.iter(|| black_box(engine.execute(&chain, block, state)))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, parallel);
criterion_main!(benches);
